// Two servers' classrooms on one store, each with its own database connection, notifier and
// sessions: what happens on one reaches the dashboards and learners of the other. Run on SQLite
// (classroom.test.ts: one process, its notifications in the process) and on PostgreSQL
// (classroom.int.test.ts: LISTEN/NOTIFY between two connections).
import type { Exercise } from '@dockyard/content';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import type { Dashboard, DashboardServerMessage } from '../protocol/dashboard.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import type { Database } from '../store/database.ts';
import { Store } from '../store/store.ts';
import type { TerminalRegistry } from '../terminals/terminal-registry.ts';
import { fakeSessions } from '../test-support/fake-sessions.ts';
import { BROADCAST_REPLAY_MS, Classroom } from './classroom.ts';

/** Opens the shared database once more: one connection (and notifier) per simulated server. */
export type OpenReplicaDatabase = () => Promise<Database>;

const exercises = [{ id: 'e1', lesson: 'one', title: 'Do e1' }] as Exercise[];
const pass = { score: 1, maxScore: 1, passed: true, checks: [] };

/** Waits (polling) until `ok()` holds; fails after `ms`. */
async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function classroomReplicasSuite(name: string, open: OpenReplicaDatabase): void {
  describe(`classrooms of two servers: ${name}`, () => {
    let clock = Date.now();
    const now = () => clock;
    const servers: Array<{ database: Database; store: Store; classroom: Classroom; stop: () => Promise<void> }> = [];

    const server = async () => {
      const database = await open();
      const store = new Store(database.db, now);
      const { sessions } = fakeSessions(new FakeDriver(), { maxSandboxes: 5 });
      const classroom = new Classroom({
        store,
        notifier: database.notifier,
        sessions,
        // Watching terminals is not what this suite is about.
        terminals: {} as TerminalRegistry,
        exercises,
        publicUrl: 'http://dockyard.test',
        stuckMs: 60 * 60_000,
        tickMs: 60 * 60_000,
        now,
      });
      const stop = async () => {
        classroom.close();
        await sessions.stop();
        await database.close();
      };
      const s = { database, store, sessions, classroom, stop };
      servers.push(s);
      return s;
    };

    let a: Awaited<ReturnType<typeof server>>;
    let b: Awaited<ReturnType<typeof server>>;
    beforeAll(async () => {
      [a, b] = [await server(), await server()];
    });
    afterAll(async () => {
      for (const s of servers) await s.stop();
    });

    const workshop = async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      const teacher = await a.store.createUser({ username: `t-${suffix}`, displayName: 'Ms T', role: 'instructor' });
      const w = await a.store.createWorkshop({
        title: 'W',
        lessons: ['one'],
        startsAt: clock,
        endsAt: clock + 3_600_000,
        seatLimit: 10,
        ownerId: teacher.id,
      });
      const learner = async (n: string) => {
        const u = await a.store.createUser({ username: `${n}-${suffix}`, displayName: n });
        await a.store.join(w.id, u.id, n);
        return u;
      };
      return { teacher, w, learner };
    };

    it("shows a pass recorded on one server on the other's open dashboard within a second", async () => {
      const { teacher, w, learner } = await workshop();
      const ann = await learner('Ann');
      const grids: Dashboard[] = [];
      const handle = await a.classroom.openDashboard(w, teacher, (m: DashboardServerMessage) => {
        if (m.type === 'dashboard') grids.push(m);
      });
      expect(grids.at(-1)?.learners.map((l) => l.cells)).toEqual([{}]);

      // Ann is graded on server B, which announces the change.
      const t0 = Date.now();
      await b.store.recordAttempt(ann.id, 'e1', 'one', pass);
      b.classroom.changed();
      await until(() => grids.at(-1)?.learners[0]?.cells.e1?.status === 'passed', 1000, "Ann's pass on A");
      expect(Date.now() - t0).toBeLessThan(1000);
      handle.close();
    });

    it('delivers a broadcast sent on one server to the learners connected to the other, and replays it to those who connect later', async () => {
      const { teacher, w, learner } = await workshop();
      const [ann, bob] = [await learner('Ann'), await learner('Bob')];
      const stranger = await a.store.createUser({ username: `s-${Date.now()}`, displayName: 'S' });
      const annSession = (await b.sessions.create(ann.id)).session.id;
      const strangerSession = (await b.sessions.create(stranger.id)).session.id;
      const toAnn: ServerMessage[] = [];
      const toStranger: ServerMessage[] = [];
      const detachAnn = await b.classroom.attachLearner(annSession, (m) => toAnn.push(m));
      const detachStranger = await b.classroom.attachLearner(strangerSession, (m) => toStranger.push(m));
      expect(toAnn).toEqual([]);

      // Sent on A, where nobody of the workshop is connected: B delivers it to Ann. (These two servers
      // keep their sessions apart, so A knows of no learner with a sandbox to count.)
      expect(await a.classroom.broadcast(w, teacher, 'Break in 5')).toBe(0);
      const msg = { type: 'broadcast', text: 'Break in 5', from: 'Ms T', at: clock };
      await until(() => toAnn.length > 0, 1000, 'the broadcast on B');
      expect(toAnn).toEqual([msg]);
      // Sent on B, which knows Ann's sandbox: she is counted, and gets it once.
      const second = await b.classroom.broadcast(w, teacher, 'Back at 3');
      expect(second).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(toAnn.map((m) => m.type === 'broadcast' && m.text)).toEqual(['Break in 5', 'Back at 3']);
      expect(toStranger, 'not in the workshop').toEqual([]);
      detachAnn();
      detachStranger();

      // Bob connects afterwards, to A: the last broadcast is shown to him at once, from the store.
      const bobSession = (await a.sessions.create(bob.id)).session.id;
      const toBob: ServerMessage[] = [];
      const detachBob = await a.classroom.attachLearner(bobSession, (m) => toBob.push(m));
      expect(toBob).toEqual([{ ...msg, text: 'Back at 3' }]);
      detachBob();
      // ...but not once it is older than the replay window.
      clock += BROADCAST_REPLAY_MS;
      const late: ServerMessage[] = [];
      (await a.classroom.attachLearner(bobSession, (m) => late.push(m)))();
      expect(late).toEqual([]);
    });
  });
}
