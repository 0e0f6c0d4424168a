// Warm pool sizing for workshops, on a real SQLite store and sessions over the fake driver.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { Store } from '../store/store.ts';
import { fakeSessions, quietLog as quiet } from '../test-support/fake-sessions.ts';
import { poolTarget, startWarmup } from './warmup.ts';

const MIN = 60_000;
const temp = mkdtempSync(join(tmpdir(), 'dockyard-warmup-'));
let database: Database;
let store: Store;
beforeAll(async () => {
  database = await openDatabase({ dataDir: temp });
  store = new Store(database.db);
});
afterAll(async () => {
  await database.close();
  rmSync(temp, { recursive: true, force: true });
});

const sessionsOn = (driver: FakeDriver, maxSandboxes = 20) =>
  fakeSessions(driver, { maxSandboxes, warmPoolSize: 1 }).sessions;

describe('warm pool sizing for workshops', () => {
  it('wants one ready sandbox per seat without one, from the warm-up lead until the end', async () => {
    const now = Date.now();
    const teacher = await store.createUser({ username: 'wt', displayName: 'T', role: 'instructor' });
    const workshop = (startsAt: number, seatLimit: number) =>
      store.createWorkshop({
        title: 'w',
        lessons: ['architecture'],
        startsAt,
        endsAt: startsAt + 60 * MIN,
        seatLimit,
        ownerId: teacher.id,
      });
    const soon = await workshop(now + 10 * MIN, 4);
    await workshop(now + 3 * 60 * MIN, 50); // too far ahead
    await workshop(now - 2 * 60 * MIN, 50); // over
    const sessions = sessionsOn(new FakeDriver());
    expect(await poolTarget(store, sessions, 1, 15 * MIN, now)).toBe(1 + 4);
    expect(await poolTarget(store, sessions, 1, 5 * MIN, now)).toBe(1);

    // A learner with a sandbox needs no warm one; a learner without one still does.
    const [a, b] = await Promise.all(['a', 'b'].map((n) => store.createUser({ username: `w${n}`, displayName: n })));
    await store.join(soon.id, a!.id, 'A');
    await store.join(soon.id, b!.id, 'B');
    await sessions.create(a!.id);
    expect(await poolTarget(store, sessions, 1, 15 * MIN, now)).toBe(1 + 3);
    await sessions.stop();
  });

  it('grows the pool to the target and shrinks it back, never past capacity', async () => {
    const driver = new FakeDriver();
    const sessions = sessionsOn(driver, 4);
    await sessions.start();
    await sessions.pool.idle();
    expect(sessions.pool.ready()).toBe(1);
    await sessions.pool.resize(10);
    await sessions.pool.idle();
    expect(sessions.pool.ready()).toBe(4);
    await sessions.pool.resize(2);
    expect(sessions.pool.ready()).toBe(2);
    expect(driver.sandboxes.size).toBe(2);

    const stop = startWarmup({ store, sessions, base: 0, leadMs: 0, intervalMs: 60_000, log: quiet });
    await new Promise((r) => setTimeout(r, 50));
    stop();
    expect(sessions.pool.size).toBe(0);
    expect(sessions.pool.ready()).toBe(0);
    await sessions.stop();
  });
});
