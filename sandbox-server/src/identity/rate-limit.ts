// A sliding-window rate limit per key (a client address): at most `limit` events per window. In the
// store when given one (every server of a deployment counts the same events: `store/rate-events.ts`),
// else in this process's memory (unit tests).
import type { RateEvents } from '../store/rate-events.ts';

export type Taken = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  /** Where the events are kept, under `bucket`; without it, in memory. */
  events?: RateEvents;
  bucket?: string;
  now?: () => number;
}

export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #events: RateEvents | undefined;
  readonly #bucket: string;
  readonly #memory = new Map<string, number[]>();

  /** `limit` 0 turns the limit off. */
  constructor(limit: number, windowMs: number, opts: RateLimiterOptions = {}) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = opts.now ?? Date.now;
    this.#events = opts.events;
    this.#bucket = opts.bucket ?? 'default';
  }

  /** Counts an event for `key` if the limit allows it; otherwise says when the next one will be. */
  take(key: string): Promise<Taken> {
    return this.#check(key, true);
  }

  /** Whether `key` is over the limit now, without counting anything. */
  peek(key: string): Promise<Taken> {
    return this.#check(key, false);
  }

  async #check(key: string, record: boolean): Promise<Taken> {
    if (this.#limit === 0) return { ok: true };
    const now = this.#now();
    const since = now - this.#windowMs;
    const recent = this.#events
      ? await this.#events.recent(this.#bucket, key, since, record ? { now, limit: this.#limit } : undefined)
      : this.#inMemory(key, since, record ? now : undefined);
    if (recent.length < this.#limit) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((recent[0]! + this.#windowMs - now) / 1000)) };
  }

  /** The times before this event; counts it at `now` when there is room. */
  #inMemory(key: string, since: number, now?: number): number[] {
    const recent = (this.#memory.get(key) ?? []).filter((t) => t > since);
    this.#memory.set(key, now !== undefined && recent.length < this.#limit ? [...recent, now] : recent);
    if (this.#memory.size > 10_000)
      for (const [k, times] of this.#memory) if (times.every((t) => t <= since)) this.#memory.delete(k);
    return recent;
  }
}
