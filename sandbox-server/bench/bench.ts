// `npm run bench`: session ready times, keystroke echo, idle memory and sandbox density on this
// machine, against the targets. Progress goes to stderr, the table to stdout. Not a test: it
// exits 0 when targets are missed (the table marks them), non-zero only when it cannot run.
import type { TestServer } from '../src/test-support/harness.ts';
import {
  BATCH,
  capacity,
  DENSITY_MEMORY_MB,
  densityCapacity,
  HEALTH_P99_LIMIT_MS,
  type CapacityResult,
} from './capacity.ts';
import { classroomNumbers, classroomReport } from './classroom.ts';
import { dashboardTimes } from './dashboard.ts';
import { echoTimes, PACE_MS, WARM_UP } from './echo.ts';
import { memAvailable } from './memory.ts';
import { coldReadyTimes, warmReadyTimes } from './ready-time.ts';
import { swarmReadyTimes } from './swarm-time.ts';
import { swarmDriverReadyTimes } from './swarm-driver.ts';
import { runtimeNumbers, type RuntimeNumbers } from './runtimes.ts';
import { probeRunsc } from '../../infra/setup/lib/runsc.ts';
import { machine, table, type Row } from './report.ts';
import { cleanUpOnSignals, startServer, stopServer } from './servers.ts';
import { log, max, mean, mib, ms, percentile } from './stats.ts';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

const RUNS = intEnv('BENCH_RUNS', 20);
const ECHO = intEnv('BENCH_ECHO', 200);
const MAX_SANDBOXES = intEnv('BENCH_MAX_SANDBOXES', 500);
const WARM_POOL = 3;
const SWARM_RUNS = intEnv('BENCH_SWARM_RUNS', 5);
const CLASS_LEARNERS = intEnv('BENCH_CLASSROOM_LEARNERS', 30);
const CLASS_SECONDS = intEnv('BENCH_CLASSROOM_SECONDS', 120);
/**
 * `BENCH_ONLY=runtimes` runs the runc/runsc comparison alone (a few minutes instead of the density
 * run); `BENCH_ONLY=classroom` the class on two servers behind nginx alone (about 2 minutes);
 * `BENCH_ONLY=swarm-driver` the sandboxes through the swarm driver alone (about 2 minutes);
 * `BENCH_ONLY=classroom-swarm` the class over three sandbox hosts alone (about 4 minutes).
 */
const ONLY = process.env.BENCH_ONLY ?? '';
const ONLY_STEPS: Record<string, () => Promise<void>> = {
  runtimes: () => compareRuntimes(),
  classroom: () => classroom(),
  'classroom-swarm': () => classroom(true),
  'swarm-driver': () => swarmDriver(),
};
if (ONLY && !ONLY_STEPS[ONLY])
  throw new Error(`BENCH_ONLY is one of ${Object.keys(ONLY_STEPS).join(', ')}, not ${ONLY}`);

const rows: Row[] = [];
const notes: string[] = [];

/** Runs one measurement on its own server; a failure becomes a ✗ row and the next step still runs. */
async function step(
  name: string,
  env: Record<string, string>,
  measure: (server: TestServer) => Promise<void>,
): Promise<void> {
  log(`— ${name}`);
  let server: TestServer | undefined;
  try {
    server = await startServer(env);
    await measure(server);
  } catch (err) {
    log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    rows.push({ metric: name, result: `error: ${(err as Error).message}`, target: '', ok: false });
  } finally {
    if (server) await stopServer(server);
  }
}

function capacityRows(c: CapacityResult): void {
  const n = c.memory.length;
  const unreclaimable = c.memory.map((m) => m.unreclaimable);
  const usage = c.memory.map((m) => m.usage);
  rows.push({
    metric: `idle memory per sandbox, usage − page cache, mean / max (N=${n})`,
    result: `${mib(mean(unreclaimable))} / ${mib(max(unreclaimable))}`,
    target: 'mean ≤ 40 MiB',
    ok: n > 0 && mean(unreclaimable) <= 40 * 2 ** 20,
  });
  rows.push({
    metric: `idle memory per sandbox, memory.usage_in_bytes, mean / max (N=${n})`,
    result: `${mib(mean(usage))} / ${mib(max(usage))}`,
    target: 'not compared',
    ok: undefined,
  });
  if (n > 0) {
    rows.push({
      metric: `host MemAvailable drop per sandbox (N=${n})`,
      result: mib((c.availableBefore - c.availableAtPeak) / n),
      target: 'not compared',
      ok: undefined,
    });
  }
  rows.push({
    metric: `concurrent idle sandboxes with /api/health p99 ≤ ${HEALTH_P99_LIMIT_MS} ms`,
    result: `${c.best} (stopped: ${c.stoppedBecause})`,
    target: '≥ 400',
    ok: c.best >= 400,
  });
  notes.push(
    `Density run: ${DENSITY_MEMORY_MB} MiB sandboxes, created ${BATCH} at a time, 100 sequential GET /api/health after each batch ` +
      `(again, up to 3 times, while over ${HEALTH_P99_LIMIT_MS} ms); ` +
      `p99 of /api/health (and of /livez, which does not ask the engine) by count: ` +
      `${c.healthP99.map((h) => `${h.count}→${ms(h.p99)} (${ms(h.livezP99)})`).join(', ') || 'none'}.`,
    `Idle memory compared: memory.usage_in_bytes minus reclaimable page cache (total_cache − total_shmem; tmpfs stays counted), ` +
      `read from /sys/fs/cgroup/memory/docker/<id>/ after 5 s idle: page cache is reclaimable and is charged to whichever cgroup read a file first.`,
    `Free host memory (MemAvailable): ${mib(c.availableBefore)} before the density run, ${mib(c.availableAtPeak)} with ${n} sandboxes ` +
      `(the drop also counts each sandbox's host-side shim and kernel objects, and anything else the host did meanwhile).`,
  );
}

/** runc and runsc side by side, one server each, the same measurements. */
async function compareRuntimes(): Promise<void> {
  const probe = await probeRunsc();
  if (!probe.ok) {
    notes.push(`runc and runsc side by side: skipped, runsc does not work on this host (${probe.reason}).`);
    return;
  }
  const numbers = new Map<string, RuntimeNumbers>();
  for (const runtime of ['runc', 'runsc']) {
    await step(
      `${runtime}: ready, memory, echo, grade, build`,
      { DOCKYARD_SANDBOX_RUNTIME: runtime, DOCKYARD_WARM_POOL_SIZE: '0' },
      async (server) => {
        numbers.set(
          runtime,
          await runtimeNumbers(server, { runs: Math.min(RUNS, 10), keystrokes: ECHO, idle: 3, grades: 20 }),
        );
      },
    );
  }
  const [runc, runsc] = [numbers.get('runc'), numbers.get('runsc')];
  if (!runc || !runsc) return;
  const side = (f: (n: RuntimeNumbers) => string) => `${f(runc)} | ${f(runsc)}`;
  rows.push(
    {
      metric: `runc | runsc: cold ready p50 (n=${runc.coldReady.length})`,
      result: side((n) => ms(percentile(n.coldReady, 50))),
      target: 'not compared',
      ok: undefined,
    },
    {
      metric: `runc | runsc: idle memory per sandbox, usage − page cache, mean (N=${runc.idleMemory.length})`,
      result: side((n) => mib(mean(n.idleMemory))),
      target: 'not compared',
      ok: undefined,
    },
    {
      metric: `runc | runsc: keystroke echo p99 (n=${runc.echo.length})`,
      result: side((n) => ms(percentile(n.echo, 99))),
      target: 'p99 ≤ 20 ms',
      ok: percentile(runsc.echo, 99) <= 20,
    },
    {
      metric: `runc | runsc: grade latency p50 / p95 (hello-app, n=${runc.grade.length})`,
      result: side((n) => `${ms(percentile(n.grade, 50))} / ${ms(percentile(n.grade, 95))}`),
      target: 'not compared',
      ok: undefined,
    },
    {
      metric: "runc | runsc: docker build of lesson 10's app (hello-app, base image pulled)",
      result: side((n) => ms(n.buildMs)),
      target: 'not compared',
      ok: undefined,
    },
  );
  notes.push(
    "runc | runsc: each on a server of its own, 2 GiB sandboxes; under runsc the inner engine's storage is a tmpfs, so its images count as the sandbox's memory (not in the idle figure: nothing pulled yet).",
  );
}

/** Sandboxes made through the swarm driver, on three sandbox hosts on this machine. */
async function swarmDriver(): Promise<void> {
  log('— sandbox ready through the swarm driver (three sandbox hosts on this machine)');
  try {
    const { times, spread } = await swarmDriverReadyTimes(RUNS);
    rows.push({
      metric: `sandbox ready through the swarm driver, p50 / p95 (n=${times.length}, over hosts ${spread})`,
      result: `${ms(percentile(times, 50))} / ${ms(percentile(times, 95))}`,
      target: 'p50 ≤ 1 s',
      ok: percentile(times, 50) <= 1000,
    });
  } catch (err) {
    log(`swarm driver failed: ${(err as Error).stack ?? String(err)}`);
    rows.push({ metric: 'swarm driver ready', result: `error: ${(err as Error).message}`, target: '', ok: false });
  }
}

/** A class of learners at work on a deployment of two servers behind nginx; with `swarm`, over three sandbox hosts. */
async function classroom(swarm = false): Promise<void> {
  log(`— classroom${swarm ? ' over three sandbox hosts' : ''}: ${CLASS_LEARNERS} learners, ${CLASS_SECONDS} s`);
  try {
    const { rows: r, notes: n } = classroomReport(
      await classroomNumbers({ learners: CLASS_LEARNERS, seconds: CLASS_SECONDS, swarm }),
    );
    rows.push(...r);
    notes.push(...n);
  } catch (err) {
    log(`classroom failed: ${(err as Error).stack ?? String(err)}`);
    rows.push({ metric: 'classroom', result: `error: ${(err as Error).message}`, target: '', ok: false });
  }
}

async function main(): Promise<void> {
  cleanUpOnSignals();
  log(`runs ${RUNS}, keystrokes ${ECHO}, density cap ${MAX_SANDBOXES}`);
  if (ONLY) {
    await ONLY_STEPS[ONLY]!();
    const out = `${table(rows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\n${machine()}\n`;
    process.stdout.write(out, () => process.exit(0));
    return;
  }

  await step('cold ready', { DOCKYARD_WARM_POOL_SIZE: '0' }, async (server) => {
    const { ready, inner } = await coldReadyTimes(server, RUNS);
    rows.push({
      metric: `cold ready (POST /api/sessions) p50 / p95 (n=${ready.length})`,
      result: `${ms(percentile(ready, 50))} / ${ms(percentile(ready, 95))}`,
      target: 'p50 ≤ 500 ms',
      ok: percentile(ready, 50) <= 500,
    });
    rows.push({
      metric: `inner engine answering, after its container started, p50 / p95 (n=${inner.length})`,
      result: `${ms(percentile(inner, 50))} / ${ms(percentile(inner, 95))}`,
      target: 'p50 ≤ 500 ms',
      ok: percentile(inner, 50) <= 500,
    });
  });

  await step('warm-pool ready', { DOCKYARD_WARM_POOL_SIZE: String(WARM_POOL) }, async (server) => {
    const t = await warmReadyTimes(server, RUNS);
    rows.push({
      metric: `warm-pool ready p50 / p95 (n=${t.length}, pool ${WARM_POOL})`,
      result: `${ms(percentile(t, 50))} / ${ms(percentile(t, 95))}`,
      target: 'p50 ≤ 150 ms',
      ok: percentile(t, 50) <= 150,
    });
  });

  await step('3-node Swarm from the template', { DOCKYARD_WARM_POOL_SIZE: '0' }, async (server) => {
    const t = await swarmReadyTimes(server, SWARM_RUNS, 'swarm-1-2');
    rows.push({
      metric: `3-node Swarm ready from the template, cold, p50 / max (n=${t.length})`,
      result: `${ms(percentile(t, 50))} / ${ms(max(t))}`,
      target: 'p50 ≤ 10 s',
      ok: percentile(t, 50) <= 10_000,
    });
  });

  await swarmDriver();

  await step('keystroke echo', { DOCKYARD_WARM_POOL_SIZE: '0' }, async (server) => {
    const t = await echoTimes(server, ECHO);
    rows.push({
      metric: `keystroke echo p50 / p99 (n=${t.length}, one per ${PACE_MS} ms, after ${WARM_UP} untimed)`,
      result: `${ms(percentile(t, 50))} / ${ms(percentile(t, 99))}`,
      target: 'p99 ≤ 20 ms',
      ok: percentile(t, 99) <= 20,
    });
    notes.push(`Keystroke echo: ${t.filter((x) => x > 20).length} of ${t.length} over 20 ms, slowest ${ms(max(t))}.`);
  });

  await compareRuntimes();

  log('— workshop dashboard');
  try {
    const d = await dashboardTimes(200);
    rows.push({
      metric: `dashboard grid, ${d.learners} learners × ${d.exercises} exercises, p50 / p95 (n=${d.compute.length})`,
      result: `${ms(percentile(d.compute, 50))} / ${ms(percentile(d.compute, 95))}`,
      target: 'p95 ≤ 250 ms',
      ok: percentile(d.compute, 95) <= 250,
    });
    rows.push({
      metric: `learner passes → instructor's open dashboard, p50 / p95 (n=${d.push.length}, 150 ms debounce)`,
      result: `${ms(percentile(d.push, 50))} / ${ms(percentile(d.push, 95))}`,
      target: 'p95 ≤ 1 s',
      ok: percentile(d.push, 95) <= 1000,
    });
    notes.push(`Dashboard CSV export, ${d.learners} learners: p50 ${ms(percentile(d.csv, 50))}.`);
  } catch (err) {
    log(`dashboard failed: ${(err as Error).stack ?? String(err)}`);
    rows.push({ metric: 'workshop dashboard', result: `error: ${(err as Error).message}`, target: '', ok: false });
  }

  const density = await densityCapacity(MAX_SANDBOXES);
  notes.push(density.note);
  const densityEnv = {
    DOCKYARD_WARM_POOL_SIZE: '0',
    DOCKYARD_MAX_SANDBOXES: String(density.maxSandboxes),
    DOCKYARD_SANDBOX_MEMORY_MB: String(DENSITY_MEMORY_MB),
    DOCKYARD_SANDBOX_STORAGE_MB: String(density.storageMb),
  };
  await step('idle sandboxes', densityEnv, async (server) => capacityRows(await capacity(server, MAX_SANDBOXES)));
  notes.push(`Free host memory (MemAvailable) after clean-up: ${mib(await memAvailable())}.`);

  await classroom();
  await classroom(true);

  const out = `${table(rows)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\n${machine()}\n`;
  process.stdout.write(out, () => process.exit(0));
}

main().catch((err: unknown) => {
  log(`benchmark failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
