// The dashboard's grid from a real SQLite store with a fake clock: cells, stuck learners, CSV; and
// two servers' classrooms on one SQLite store, their notifications within the process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exercise } from '@dockyard/content';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import { openDatabase, type Database } from '../store/database.ts';
import type { Notifier } from '../store/notifications.ts';
import { Store } from '../store/store.ts';
import { TerminalRegistry } from '../terminals/terminal-registry.ts';
import { fakeSessions } from '../test-support/fake-sessions.ts';
import { Classroom } from './classroom.ts';
import { classroomReplicasSuite } from './classroom-replicas-suite.ts';

const MIN = 60_000;
const exercise = (id: string, lesson: string) => ({ id, lesson, title: `Do ${id}` }) as Exercise;
const temp = mkdtempSync(join(tmpdir(), 'dockyard-classroom-'));
let database: Database;
let clock = 1_800_000_000_000;
const now = () => clock;

beforeAll(async () => {
  database = await openDatabase({ dataDir: temp });
});
afterAll(async () => {
  await database.close();
  rmSync(temp, { recursive: true, force: true });
});

describe('the dashboard grid', () => {
  it('shows cells per exercise, and who is stuck: started, not finished, no progress for N minutes', async () => {
    const store = new Store(database.db, now);
    const { driver, sessions } = fakeSessions(new FakeDriver(), { maxSandboxes: 5 });
    const classroom = new Classroom({
      store,
      notifier: database.notifier,
      sessions,
      terminals: new TerminalRegistry(driver, (id) => sessions.sandboxesOf(id)),
      exercises: [exercise('b1', 'two'), exercise('a1', 'one'), exercise('a2', 'one'), exercise('x', 'other')],
      publicUrl: 'http://dockyard.test',
      stuckMs: 10 * MIN,
      tickMs: 60 * MIN,
      now,
    });
    const teacher = await store.createUser({ username: 't', displayName: 'T', role: 'instructor' });
    const w = await store.createWorkshop({
      title: 'W',
      lessons: ['one', 'two'],
      startsAt: clock + 5 * MIN,
      endsAt: clock + 120 * MIN,
      seatLimit: 10,
      ownerId: teacher.id,
    });
    const [ann, bob] = await Promise.all(['ann', 'bob'].map((n) => store.createUser({ username: n, displayName: n })));
    await store.join(w.id, ann!.id, 'Ann');
    clock += 1;
    await store.join(w.id, bob!.id, '=Bob');
    const annSession = (await sessions.create(ann!.id)).session.id;
    await sessions.addNode(annSession);

    // Long before the start nobody is stuck, however quiet.
    clock += 4 * MIN;
    let grid = await classroom.dashboard(w);
    expect(grid.exercises.map((e) => e.id)).toEqual(['a1', 'a2', 'b1']);
    expect(grid.learners.map((l) => [l.displayName, l.online, l.stuck, l.nodes])).toEqual([
      ['Ann', true, false, 2],
      ['=Bob', false, false, 0],
    ]);
    expect(grid.workshop.joinUrl).toBe(`http://dockyard.test/join/?code=${w.code}`);

    // Ann works; Bob does nothing for 10 minutes after the start.
    clock += 8 * MIN;
    // Twelve minutes since Bob joined, but seven since the start: quiet time counts from the start.
    expect((await classroom.dashboard(w)).learners[1]!.stuck).toBe(false);
    await store.recordAttempt(ann!.id, 'a1', 'one', { score: 2, maxScore: 2, passed: true, checks: [] });
    await store.recordAttempt(ann!.id, 'a2', 'one', { score: 1, maxScore: 3, passed: false, checks: [] });
    await store.recordAttempt(ann!.id, 'x', 'other', { score: 1, maxScore: 1, passed: true, checks: [] });
    clock += 3 * MIN;
    grid = await classroom.dashboard(w);
    expect(grid.learners[0]).toMatchObject({ stuck: false, lastActivityAt: clock - 3 * MIN });
    expect(grid.learners[0]!.cells).toEqual({
      a1: { status: 'passed', score: 2, maxScore: 2, attempts: 1 },
      a2: { status: 'attempted', score: 1, maxScore: 3, attempts: 1 },
    });
    expect(grid.learners[1]).toMatchObject({ stuck: true, cells: {} });

    // Ann goes quiet too: stuck; then finishes everything: never stuck again.
    clock += 10 * MIN;
    expect((await classroom.dashboard(w)).learners[0]!.stuck).toBe(true);
    await store.recordAttempt(ann!.id, 'a2', 'one', { score: 3, maxScore: 3, passed: true, checks: [] });
    await store.recordAttempt(ann!.id, 'b1', 'two', { score: 1, maxScore: 1, passed: true, checks: [] });
    clock += 60 * MIN;
    expect((await classroom.dashboard(w)).learners[0]!.stuck).toBe(false);

    // The CSV: a row per learner, and a name that looks like a formula is defused.
    const csv = (await classroom.csv(w)).trim().split('\r\n');
    expect(csv[0]).toBe('learner,joined,passed,score,a1,a2,b1');
    expect(csv[1]).toMatch(/^Ann,[^,]+,3\/3,6,passed 2\/2,passed 3\/3,passed 1\/1$/);
    expect(csv[2]).toMatch(/^'=Bob,[^,]+,0\/3,0,,,$/);
    classroom.close();
    await sessions.stop();
  });
});

describe('a classroom whose notifier reconnected', () => {
  it('recomputes its dashboards, since changes announced meanwhile were not heard', async () => {
    const store = new Store(database.db, now);
    const reconnected = new Set<() => void>();
    const notifier: Notifier = {
      publish: async () => undefined, // heard by nobody, as while the connection is down
      subscribe: () => () => undefined,
      onReconnect: (fn) => (reconnected.add(fn), () => reconnected.delete(fn)),
      close: async () => undefined,
    };
    const { sessions } = fakeSessions(new FakeDriver());
    const classroom = new Classroom({
      store,
      notifier,
      sessions,
      // Nobody watches a terminal here.
      terminals: {} as TerminalRegistry,
      exercises: [exercise('r1', 'one')],
      publicUrl: 'http://dockyard.test',
      stuckMs: 10 * MIN,
      tickMs: 60 * MIN,
      now,
    });
    const teacher = await store.createUser({ username: 'rt', displayName: 'T', role: 'instructor' });
    const w = await store.createWorkshop({
      title: 'R',
      lessons: ['one'],
      startsAt: clock,
      endsAt: clock + 60 * MIN,
      seatLimit: 3,
      ownerId: teacher.id,
    });
    const cy = await store.createUser({ username: 'cy', displayName: 'Cy' });
    await store.join(w.id, cy.id, 'Cy');
    const send = vi.fn();
    const handle = await classroom.openDashboard(w, teacher, send);
    expect(send).toHaveBeenCalledTimes(1);
    await store.recordAttempt(cy.id, 'r1', 'one', { score: 1, maxScore: 1, passed: true, checks: [] });
    classroom.changed();
    await new Promise((r) => setTimeout(r, 300));
    expect(send, 'the announcement was lost').toHaveBeenCalledTimes(1);

    expect(reconnected.size).toBe(1);
    for (const fn of reconnected) fn();
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(2));
    expect(send.mock.lastCall?.[0]).toMatchObject({ learners: [{ cells: { r1: { status: 'passed' } } }] });
    handle.close();
    classroom.close();
    expect(reconnected.size, 'close unsubscribes').toBe(0);
    await sessions.stop();
  });
});

classroomReplicasSuite('SQLite', () => openDatabase({ dataDir: temp }));
