// A sliding-window rate limit per key (a client address): at most `limit` events per window.
// In memory: a restart forgets it, which is fine for slowing down abuse.

export type Taken = { ok: true } | { ok: false; retryAfterSeconds: number };

export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #events = new Map<string, number[]>();

  /** `limit` 0 turns the limit off. */
  constructor(limit: number, windowMs: number, now: () => number = Date.now) {
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts an event for `key` if the limit allows it; otherwise says when the next one will be. */
  take(key: string): Taken {
    const now = this.#now();
    const verdict = this.peek(key);
    if (!verdict.ok || this.#limit === 0) return verdict;
    this.#events.get(key)!.push(now);
    if (this.#events.size > 10_000) this.#forgetOld(now);
    return verdict;
  }

  /** Whether `key` is over the limit now, without counting anything. */
  peek(key: string): Taken {
    if (this.#limit === 0) return { ok: true };
    const now = this.#now();
    const recent = (this.#events.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    this.#events.set(key, recent);
    if (recent.length < this.#limit) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((recent[0]! + this.#windowMs - now) / 1000)) };
  }

  #forgetOld(now: number): void {
    for (const [key, times] of this.#events)
      if (times.every((t) => t <= now - this.#windowMs)) this.#events.delete(key);
  }
}
