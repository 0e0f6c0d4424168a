// Keeps one server holding a lease (`leases.ts`) for as long as it can, and tells it when it gains
// and loses it: the deployment's one reaper and one warm pool run only while their lease is held.
// A holder that cannot reach the database must stop before the lease may have expired, since
// another server may take it then: it stops at its last renewal + ttl - one renewal period, or at
// once on a refused renewal or a database error.
import type { Leases } from './leases.ts';

export interface LeaseKeeperOptions {
  leases: Pick<Leases, 'acquire' | 'release'>;
  /** The lease, for example 'reaper'. */
  name: string;
  /** Who asks: unique per server process. */
  holder: string;
  /** How long a taken or renewed lease lasts, in ms. */
  ttlMs?: number;
  /** How often it is renewed (or asked for while another holds it), in ms; less than ttlMs. */
  renewMs?: number;
  /** The lease is ours: start the work. */
  onGain: () => void | Promise<void>;
  /** The lease may no longer be ours: stop the work. Called once per loss, and by stop() when held. */
  onLoss: () => void | Promise<void>;
  logger?: { warn(obj: object, msg: string): void };
  now?: () => number;
}

export class LeaseKeeper {
  readonly #o: Required<Omit<LeaseKeeperOptions, 'logger'>> & Pick<LeaseKeeperOptions, 'logger'>;
  #held = false;
  #started = false;
  #stopped = false;
  /** The failures since the last success; only the first of a run is logged. */
  #failures = 0;
  #next: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #attempt: Promise<void> | undefined;
  /** onGain and onLoss run one after the other, never overlapping. */
  #callbacks: Promise<void> = Promise.resolve();

  constructor(options: LeaseKeeperOptions) {
    this.#o = { ttlMs: 30_000, renewMs: 10_000, now: Date.now, ...options };
    const { ttlMs, renewMs } = this.#o;
    if (!(renewMs > 0 && renewMs < ttlMs)) {
      throw new Error(`LeaseKeeper ${options.name}: renewMs (${renewMs}) must be above 0 and below ttlMs (${ttlMs})`);
    }
  }

  /** Whether the lease is ours now (safely: it cannot have expired yet). */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Asks for the lease now and every renewMs from now on. Resolves once the first answer is in, and
   * onGain has run when it was a yes.
   */
  async start(): Promise<void> {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#run();
    await this.#attempt;
    await this.#callbacks;
  }

  /** Stops asking; when held, calls onLoss, waits for it, then gives the lease up. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#next);
    await this.#attempt;
    this.#lose();
    await this.#callbacks;
    if (!this.#started) return;
    // Even when not held: a renewal that timed out here may still have been written there.
    await this.#o.leases.release(this.#o.name, this.#o.holder).catch((err: unknown) => {
      this.#o.logger?.warn({ err, lease: this.#o.name }, 'could not give the lease up; it expires by itself');
    });
  }

  #run(): void {
    this.#attempt = this.#tryOnce().finally(() => {
      this.#attempt = undefined;
      if (this.#stopped) return;
      this.#next = setTimeout(() => this.#run(), this.#o.renewMs);
      this.#next.unref();
    });
  }

  async #tryOnce(): Promise<void> {
    const { leases, name, holder, ttlMs, renewMs, now } = this.#o;
    const askedAt = now();
    let ours: boolean;
    try {
      ours = await withTimeout(leases.acquire(name, holder, ttlMs), renewMs);
      this.#failures = 0;
    } catch (err) {
      if (this.#failures++ === 0) this.#o.logger?.warn({ err, lease: name }, 'could not renew the lease');
      return this.#lose();
    }
    if (this.#stopped) return;
    // The lease written lasts until askedAt + ttlMs at the earliest; keep one renewal period spare.
    const safeUntil = askedAt + ttlMs - renewMs;
    if (!ours || now() >= safeUntil) return this.#lose();
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      this.#o.logger?.warn({ lease: name }, 'the lease was not renewed in time');
      this.#lose();
    }, safeUntil - now());
    this.#deadline.unref();
    if (this.#held) return;
    this.#held = true;
    this.#call(this.#o.onGain, 'onGain');
  }

  #lose(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    if (!this.#held) return;
    this.#held = false;
    this.#call(this.#o.onLoss, 'onLoss');
  }

  #call(fn: () => void | Promise<void>, what: string): void {
    this.#callbacks = this.#callbacks
      .then(fn)
      .catch((err: unknown) => this.#o.logger?.warn({ err, lease: this.#o.name }, `the lease's ${what} failed`));
  }
}

/** Rejects when `p` has not settled within `ms`: a database that hangs counts as one that failed. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
