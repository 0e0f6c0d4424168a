// The warm pool: sandboxes started ahead of demand, so "Start" hands one out at once.
import { randomBytes } from 'node:crypto';
import type { Sandbox, SandboxDriver, SandboxLimits } from '../drivers/driver.ts';
import type { Logger } from './session-manager.ts';

export class WarmPool {
  /** Label that marks a pool sandbox, so a restarted server can adopt it. */
  static readonly LABEL = 'org.dockyard.pool';
  readonly #driver: SandboxDriver;
  #size: number;
  readonly #limits: SandboxLimits;
  readonly #log: Logger;
  readonly #hasRoom: () => boolean;
  readonly #labels: Record<string, string>;
  readonly #ready: string[] = [];
  readonly #filling = new Set<string>();
  #idle: Promise<void> = Promise.resolve();
  #failures = 0;
  /** Whether this server runs the deployment's pool now (it holds the lease). */
  #running = true;

  constructor(opts: {
    driver: SandboxDriver;
    size: number;
    limits: SandboxLimits;
    log: Logger;
    hasRoom: () => boolean;
    /** Put on every pool sandbox besides the pool label. */
    labels: Record<string, string>;
  }) {
    this.#driver = opts.driver;
    this.#labels = opts.labels;
    this.#size = opts.size;
    this.#limits = opts.limits;
    this.#log = opts.log;
    this.#hasRoom = opts.hasRoom;
  }

  /** Ready sandboxes plus those being started: all count against capacity. */
  count(): number {
    return this.#ready.length + this.#filling.size;
  }

  ready(): number {
    return this.#ready.length;
  }

  owns(sandboxId: string): boolean {
    return this.#ready.includes(sandboxId) || this.#filling.has(sandboxId);
  }

  /** Takes pool sandboxes left by a previous run, up to the pool size; removes the rest. */
  async adopt(sandboxes: readonly Sandbox[]): Promise<number> {
    for (const s of sandboxes) {
      if (this.#ready.length < this.#size) this.#ready.push(s.id);
      else await this.#driver.remove(s.id);
    }
    return this.#ready.length;
  }

  /** Removes the ready sandboxes (on shutdown: a stopped server should not keep idle ones running). */
  async drain(): Promise<void> {
    this.#size = 0;
    await this.#idle;
    const ids = this.#ready.splice(0);
    await Promise.all(ids.map((id) => this.#driver.remove(id).catch(() => undefined)));
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
    const extra = this.#ready.splice(size);
    await Promise.all(extra.map((id) => this.#driver.remove(id).catch(() => undefined)));
    this.fill();
  }

  take(): string | undefined {
    return this.#ready.shift();
  }

  /**
   * Another server runs the deployment's pool from now on: stop filling and forget the ready
   * sandboxes, which it adopts (they keep their pool label). `resume` takes the pool back.
   */
  pause(): void {
    this.#running = false;
    this.#ready.splice(0);
  }

  resume(): void {
    this.#running = true;
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
    while (this.#running && this.count() < this.#size && this.#hasRoom() && this.#failures < 3) {
      const id = randomBytes(8).toString('hex');
      this.#filling.add(id);
      try {
        await this.#driver.create({ id, limits: this.#limits, labels: { ...this.#labels, [WarmPool.LABEL]: 'warm' } });
        // Made after a pause, it is the pool's still: the server that runs it now adopts it.
        if (this.#running) this.#ready.push(id);
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
