// The rate limit lets `limit` events through per window and key, then says when to come back: the
// same in memory and in the store (a real SQLite file; PostgreSQL in the store's own suite).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../store/database.ts';
import { RateEvents } from '../store/rate-events.ts';
import { RateLimiter, type RateLimiterOptions } from './rate-limit.ts';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-rate-'));
let database: Database | undefined;
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

let buckets = 0;
const backends: [string, () => Promise<RateLimiterOptions>][] = [
  ['in memory', async () => ({})],
  [
    'in the store',
    async () => {
      database ??= await openDatabase({ dataDir: dir });
      return { events: new RateEvents(database.db), bucket: `b${buckets++}` };
    },
  ],
];

describe.each(backends)('RateLimiter, %s', (_name, backend) => {
  it('allows the limit per window and key, then gives the seconds until the oldest event leaves', async () => {
    const clock = { t: 1_000_000 };
    const r = new RateLimiter(2, 60_000, { ...(await backend()), now: () => clock.t });
    expect(await r.take('a')).toEqual({ ok: true });
    clock.t += 10_000;
    expect(await r.take('a')).toEqual({ ok: true });
    expect(await r.take('a')).toEqual({ ok: false, retryAfterSeconds: 50 });
    expect(await r.take('b')).toEqual({ ok: true });
    clock.t += 50_001;
    expect(await r.take('a')).toEqual({ ok: true });
    expect(await r.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('peeks without counting', async () => {
    const r = new RateLimiter(1, 60_000, { ...(await backend()), now: () => 5_000_000 });
    expect(await r.peek('a')).toEqual({ ok: true });
    expect(await r.peek('a')).toEqual({ ok: true });
    expect(await r.take('a')).toEqual({ ok: true });
    expect(await r.peek('a')).toEqual({ ok: false, retryAfterSeconds: 60 });
  });

  it('is off at 0', async () => {
    const r = new RateLimiter(0, 1000, await backend());
    for (let i = 0; i < 20; i++) expect((await r.take('a')).ok).toBe(true);
  });
});
