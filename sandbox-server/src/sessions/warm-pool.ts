// The warm pool: sandboxes started ahead of demand, so "Start" hands one out at once. One server of
// the deployment runs it (it holds the reaper's lease): it starts sandboxes and puts them on the
// shelf in the store; any server takes one from there.
import { randomBytes } from 'node:crypto';
import type { Sandbox, SandboxDriver, SandboxLimits } from '../drivers/driver.ts';
import type { ShelfRow } from '../store/warm-shelf.ts';
import type { Logger } from './session-manager.ts';

/** Where ready sandboxes wait for every server: `store/warm-shelf.ts`, or `memoryShelf()` in tests. */
export interface Shelf {
  add(id: string): Promise<void>;
  /** The oldest ready sandbox, taken; no two takers get the same one. */
  take(): Promise<string | undefined>;
  list(): Promise<ShelfRow[]>;
  /** Takes ready sandboxes off the shelf (not taken ones); returns those it took off. */
  remove(ids: readonly string[]): Promise<string[]>;
  /** Forgets rows taken before `before`, and the rows of sandboxes that are gone. */
  forget(before: number, gone?: readonly string[]): Promise<void>;
}

/** A shelf in this process's memory, for a server alone (unit tests). */
export function memoryShelf(now: () => number = Date.now): Shelf {
  let rows: ShelfRow[] = [];
  return {
    add: async (id) => void rows.push({ id }),
    take: async () => {
      const r = rows.find((x) => x.takenAt === undefined);
      if (r) r.takenAt = now();
      return r?.id;
    },
    list: async () => rows.map((r) => ({ ...r })),
    remove: async (ids) => {
      const gone = rows.filter((r) => ids.includes(r.id) && r.takenAt === undefined).map((r) => r.id);
      rows = rows.filter((r) => !gone.includes(r.id));
      return gone;
    },
    forget: async (before, gone = []) => {
      rows = rows.filter((r) => !(r.takenAt !== undefined && r.takenAt < before) && !gone.includes(r.id));
    },
  };
}

export class WarmPool {
  /** Label that marks a pool sandbox, so the server that runs the pool next can adopt it. */
  static readonly LABEL = 'org.dockyard.pool';
  readonly #driver: SandboxDriver;
  readonly #shelf: Shelf;
  #size: number;
  readonly #limits: SandboxLimits;
  readonly #log: Logger;
  readonly #hasRoom: () => boolean;
  readonly #labels: Record<string, string>;
  /** What this server knows is on the shelf (the server that runs the pool keeps it in step). */
  #ready: string[] = [];
  readonly #filling = new Set<string>();
  #idle: Promise<void> = Promise.resolve();
  #failures = 0;
  /** Sandboxes this server took from the shelf (for the metrics: a session from the pool). */
  #taken = 0;
  /** Whether this server runs the deployment's pool now (it holds the lease). */
  #running = true;

  constructor(opts: {
    driver: SandboxDriver;
    shelf?: Shelf;
    size: number;
    limits: SandboxLimits;
    log: Logger;
    hasRoom: () => boolean;
    /** Put on every pool sandbox besides the pool label. */
    labels: Record<string, string>;
  }) {
    this.#driver = opts.driver;
    this.#shelf = opts.shelf ?? memoryShelf();
    this.#labels = opts.labels;
    this.#size = opts.size;
    this.#limits = opts.limits;
    this.#log = opts.log;
    this.#hasRoom = opts.hasRoom;
  }

  /** Ready sandboxes plus those being started: all count against capacity (on the server that runs the pool). */
  count(): number {
    return this.#ready.length + this.#filling.size;
  }

  ready(): number {
    return this.#ready.length;
  }

  /** How many sandboxes this server has taken from the pool so far. */
  taken(): number {
    return this.#taken;
  }

  /**
   * The pool's sandboxes as far as the reaper must know: being started here, on the shelf, or
   * taken a moment ago by a server that has not recorded its session yet.
   */
  async known(): Promise<Set<string>> {
    return new Set([...this.#filling, ...this.#ready, ...(await this.#shelf.list()).map((r) => r.id)]);
  }

  /**
   * This server runs the pool from now on: the pool sandboxes that exist (`sandboxes`, none of them
   * held by a session) are on the shelf, up to the pool size; the rest are removed, and so are the
   * shelf's rows of sandboxes that are gone.
   */
  async adopt(sandboxes: readonly Sandbox[]): Promise<number> {
    this.#running = true;
    const rows = await this.#shelf.list();
    const alive = new Set(sandboxes.map((s) => s.id));
    await this.#shelf.forget(
      0,
      rows.filter((r) => r.takenAt === undefined && !alive.has(r.id)).map((r) => r.id),
    );
    const shelved = new Set(rows.map((r) => r.id));
    this.#ready = rows.filter((r) => r.takenAt === undefined && alive.has(r.id)).map((r) => r.id);
    for (const s of sandboxes) {
      if (shelved.has(s.id)) continue; // ready already, or taken a moment ago by another server
      if (this.#ready.length < this.#size) {
        await this.#shelf.add(s.id);
        this.#ready.push(s.id);
      } else await this.#driver.remove(s.id);
    }
    return this.#ready.length;
  }

  /** Forgets the shelf's rows of sandboxes taken before `before`: their sessions hold them by now. */
  forgetTaken(before: number): Promise<void> {
    return this.#shelf.forget(before);
  }

  /** Removes the ready sandboxes (on shutdown: a server alone should not keep idle ones running). */
  async drain(): Promise<void> {
    this.#size = 0;
    await this.#idle;
    await this.#discard(this.#ready.splice(0));
  }

  /** How many sandboxes the pool aims to keep ready. */
  get size(): number {
    return this.#size;
  }

  /**
   * Sets how many sandboxes to keep ready (a workshop about to start wants one per free seat):
   * grows in the background; shrinking removes ready sandboxes beyond the new size.
   */
  async resize(size: number): Promise<void> {
    this.#size = size;
    if (this.#running) await this.#discard(this.#ready.splice(size));
    this.fill();
  }

  /** Removes ready sandboxes that were lost (their host stopped), and starts others in their place. */
  async replaceLost(ids: readonly string[]): Promise<void> {
    const lost = this.#ready.filter((id) => ids.includes(id));
    if (lost.length === 0) return;
    this.#ready = this.#ready.filter((id) => !lost.includes(id));
    await this.#discard(lost);
    this.fill();
  }

  /** Takes sandboxes off the shelf and removes them, unless another server took them first. */
  async #discard(ids: string[]): Promise<void> {
    const off = await this.#shelf.remove(ids);
    await Promise.all(off.map((id) => this.#driver.remove(id).catch(() => undefined)));
  }

  /** A ready sandbox, whichever server runs the pool; undefined when none is ready. */
  async take(): Promise<string | undefined> {
    const id = await this.#shelf.take();
    if (!id) return undefined;
    this.#taken++;
    this.#ready = this.#ready.filter((r) => r !== id);
    return id;
  }

  /**
   * Another server runs the deployment's pool from now on: stop filling and forget the shelf, which
   * it adopts (its sandboxes keep their pool label). `adopt` takes the pool back.
   */
  pause(): void {
    this.#running = false;
    this.#ready = [];
  }

  /** Starts sandboxes in the background, one at a time, until the pool is full or the host is. */
  fill(): void {
    if (this.#filling.size > 0 || !this.#running) return;
    this.#idle = this.#fillLoop();
  }

  /** Resolves when no fill is running (for shutdown and tests). */
  idle(): Promise<void> {
    return this.#idle;
  }

  async #fillLoop(): Promise<void> {
    // Other servers take from the shelf: start from what it holds now.
    const rows = await this.#shelf.list().catch(() => undefined);
    if (rows) this.#ready = rows.filter((r) => r.takenAt === undefined).map((r) => r.id);
    while (this.#running && this.count() < this.#size && this.#hasRoom() && this.#failures < 3) {
      const id = randomBytes(8).toString('hex');
      this.#filling.add(id);
      try {
        await this.#driver.create({ id, limits: this.#limits, labels: { ...this.#labels, [WarmPool.LABEL]: 'warm' } });
        // Made after a pause, it is the pool's still: the server that runs it now adopts it.
        if (this.#running) {
          await this.#shelf.add(id);
          this.#ready.push(id);
        }
        this.#failures = 0;
      } catch (err) {
        this.#failures++;
        this.#log.error({ err, failures: this.#failures }, 'warm pool: sandbox creation failed');
        await this.#driver.remove(id).catch(() => undefined);
      } finally {
        this.#filling.delete(id);
      }
    }
    // After three failures in a row the pool waits for the next fill() call (a reap or a take).
    if (this.#failures >= 3) this.#failures = 0;
  }
}
