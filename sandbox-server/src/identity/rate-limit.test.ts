// The rate limit lets `limit` events through per window and key, then says when to come back.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows the limit per window and key, then gives the seconds until the oldest event leaves', () => {
    const clock = { t: 0 };
    const r = new RateLimiter(2, 60_000, () => clock.t);
    expect(r.take('a')).toEqual({ ok: true });
    clock.t = 10_000;
    expect(r.take('a')).toEqual({ ok: true });
    expect(r.take('a')).toEqual({ ok: false, retryAfterSeconds: 50 });
    expect(r.take('b')).toEqual({ ok: true });
    clock.t = 60_001;
    expect(r.take('a')).toEqual({ ok: true });
    expect(r.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('peeks without counting', () => {
    const r = new RateLimiter(1, 60_000, () => 0);
    expect(r.peek('a')).toEqual({ ok: true });
    expect(r.peek('a')).toEqual({ ok: true });
    expect(r.take('a')).toEqual({ ok: true });
    expect(r.peek('a')).toEqual({ ok: false, retryAfterSeconds: 60 });
  });

  it('is off at 0', () => {
    const r = new RateLimiter(0, 1000);
    for (let i = 0; i < 100; i++) expect(r.take('a').ok).toBe(true);
  });
});
