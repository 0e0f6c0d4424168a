// The instructor's dashboard at class size: how long a grid of N learners × every exercise takes
// to compute from the store (SQLite, a real file), to export as CSV, and to reach an open
// dashboard after a learner's attempt is recorded (debounce included). No sandboxes needed.
// Alone: `node sandbox-server/bench/dashboard.ts [learners]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExercises } from '@dockyard/content';
import { FakeDriver } from '../src/drivers/fake/fake-driver.ts';
import { openDatabase } from '../src/store/database.ts';
import { Store } from '../src/store/store.ts';
import { TerminalRegistry } from '../src/terminals/terminal-registry.ts';
import { fakeSessions } from '../src/test-support/fake-sessions.ts';
import { Classroom } from '../src/workshops/classroom.ts';
import { log, percentile } from './stats.ts';

export interface DashboardTimes {
  learners: number;
  exercises: number;
  compute: number[];
  csv: number[];
  push: number[];
}

export async function dashboardTimes(learners = 200, runs = 30): Promise<DashboardTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-bench-dashboard-'));
  const database = await openDatabase({ dataDir: dir });
  const store = new Store(database.db);
  const { driver, sessions } = fakeSessions(new FakeDriver(), { maxSandboxes: 10 });
  const exercises = loadExercises();
  const classroom = new Classroom({
    store,
    notifier: database.notifier,
    sessions,
    terminals: new TerminalRegistry(driver, (id) => sessions.sandboxesOf(id)),
    exercises,
    publicUrl: 'http://localhost:8080',
    stuckMs: 600_000,
    tickMs: 3_600_000,
  });
  try {
    const teacher = await store.createUser({ username: 'teacher', displayName: 'T', role: 'instructor' });
    const lessons = [...new Set(exercises.map((e) => e.lesson))];
    const w = await store.createWorkshop({
      title: 'Bench',
      lessons,
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      seatLimit: learners + runs,
      ownerId: teacher.id,
    });
    log(`dashboard: ${learners} learners × ${exercises.length} exercises`);
    for (let i = 0; i < learners; i++) {
      const u = await store.createUser({ username: `l${i}`, displayName: `Learner ${i}` });
      await store.join(w.id, u.id, u.displayName);
      for (const e of exercises) {
        const score = (i + e.id.length) % 3;
        await store.recordAttempt(u.id, e.id, e.lesson, { score, maxScore: 2, passed: score === 2, checks: [] });
      }
    }
    const timed = async (fn: () => Promise<unknown>, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await fn();
        out.push(performance.now() - t0);
      }
      return out;
    };
    const compute = await timed(() => classroom.dashboard(w), runs);
    const csv = await timed(() => classroom.csv(w), runs);

    // An attempt recorded, then the grid on an open dashboard: what the instructor waits for.
    let resolveSeen: (() => void) | undefined;
    const handle = await classroom.openDashboard(w, teacher, (msg) => {
      if (msg.type === 'dashboard') resolveSeen?.();
    });
    const push: number[] = [];
    for (let i = 0; i < Math.min(runs, 20); i++) {
      const seen = new Promise<void>((r) => (resolveSeen = r));
      const t0 = performance.now();
      // A learner passes an exercise they had not: the grid really changes.
      const e = exercises[i % exercises.length]!;
      const u = await store.createUser({ username: `late${i}`, displayName: `Late ${i}` });
      await store.join(w.id, u.id, u.displayName);
      await store.recordAttempt(u.id, e.id, e.lesson, { score: 2, maxScore: 2, passed: true, checks: [] });
      classroom.changed();
      await seen;
      push.push(performance.now() - t0);
    }
    handle.close();
    return { learners, exercises: exercises.length, compute, csv, push };
  } finally {
    classroom.close();
    await sessions.stop();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 200);
  const t = await dashboardTimes(n);
  const p = (v: number[]) => `p50 ${percentile(v, 50).toFixed(1)} ms, p95 ${percentile(v, 95).toFixed(1)} ms`;
  console.log(`${t.learners} learners × ${t.exercises} exercises`);
  console.log(`grid computed: ${p(t.compute)}`);
  console.log(`CSV export:    ${p(t.csv)}`);
  console.log(`attempt → open dashboard (150 ms debounce included): ${p(t.push)}`);
}
