// runc and runsc side by side: cold ready, idle memory, keystroke echo, grade latency and one
// `docker build` of lesson 10's app (the hello-app exercise), each on a server of its own runtime.
import { randomBytes } from 'node:crypto';
import { loadExercises } from '@dockyard/content';
import { SandboxFiles } from '../src/files/sandbox-files.ts';
import { grade } from '../src/grader/grader.ts';
import { sandboxProbe, WORK_DIR } from '../src/grader/probe.ts';
import type { TestServer } from '../src/test-support/harness.ts';
import { containerName } from '../src/drivers/docker/sandbox-options.ts';
import { dockerClient } from '../src/engine/engine.ts';
import { echoTimes } from './echo.ts';
import { sandboxMemory } from './memory.ts';
import { coldReadyTimes } from './ready-time.ts';
import { log, mean, sleep } from './stats.ts';

const GiB = 2 ** 30;
const LIMITS = { memoryBytes: 2 * GiB, cpus: 1, pids: 1024, storageBytes: 4 * GiB };

export interface RuntimeNumbers {
  coldReady: number[];
  /** usage − reclaimable page cache, per idle sandbox. */
  idleMemory: number[];
  echo: number[];
  grade: number[];
  /** `docker build -t hello-app .` in a fresh sandbox, the base image pulled first. */
  buildMs: number;
}

/** Measures one runtime on `server` (started with DOCKYARD_SANDBOX_RUNTIME set to it). */
export async function runtimeNumbers(
  server: TestServer,
  o: { runs: number; keystrokes: number; idle: number; grades: number },
): Promise<RuntimeNumbers> {
  const { ready: coldReady } = await coldReadyTimes(server, o.runs);
  const echo = await echoTimes(server, o.keystrokes);

  const driver = server.driver;
  const ids = Array.from({ length: o.idle }, () => `b${randomBytes(5).toString('hex')}`);
  const idleMemory: number[] = [];
  let buildMs: number;
  const gradeMs: number[] = [];
  try {
    await Promise.all(ids.map((id) => driver.create({ id, limits: LIMITS })));
    log(`${ids.length} idle sandboxes, 5 s`);
    await sleep(5000);
    for (const id of ids) {
      const full = (await dockerClient(server.config.dockerSocket).getContainer(containerName(id)).inspect()).Id;
      idleMemory.push((await sandboxMemory(full)).unreclaimable);
    }
    // Lesson 10's app in the first one: its starter, the base image pulled, then the timed build.
    const exercise = loadExercises().find((e) => e.id === 'hello-app')!;
    const id = ids[0]!;
    const files = new SandboxFiles((cmd, opts) => driver.exec(id, cmd, opts), { root: WORK_DIR, maxBytes: 1 << 20 });
    for (const [path, content] of Object.entries(exercise.starter.files)) await files.write(path, content);
    const lines = exercise.solution.split('\n');
    const at = lines.findIndex((l) => l.startsWith('docker build'));
    const solve = await driver.exec(id, ['bash', '-e', '-c', `cd ${WORK_DIR}\n${lines.slice(0, at).join('\n')}`], {
      timeoutMs: 300_000,
    });
    if (solve.exitCode !== 0) throw new Error(`hello-app's solution failed: ${solve.stderr}`);
    await driver.exec(id, ['docker', 'pull', '-q', 'node:24'], { timeoutMs: 300_000 });
    const started = performance.now();
    const build = await driver.exec(id, ['sh', '-c', `cd ${WORK_DIR} && docker build -q -t hello-app .`], {
      timeoutMs: 300_000,
    });
    buildMs = performance.now() - started;
    if (build.exitCode !== 0) throw new Error(`docker build failed: ${build.stderr}`);
    // Graded after the app runs (its checks pass): what a learner's "Check" costs.
    const run = await driver.exec(id, ['bash', '-c', `cd ${WORK_DIR}\n${lines.slice(at + 1).join('\n')}`], {
      timeoutMs: 60_000,
    });
    if (run.exitCode !== 0) throw new Error(`hello-app did not start: ${run.stderr}`);
    for (let i = 0; i < o.grades; i++) {
      const report = await grade(exercise, () => sandboxProbe(driver, id));
      gradeMs.push(report.ms);
    }
  } finally {
    await Promise.all(ids.map((id) => driver.remove(id).catch(() => undefined)));
  }
  log(`idle memory mean ${(mean(idleMemory) / 2 ** 20).toFixed(1)} MiB`);
  return { coldReady, idleMemory, echo, grade: gradeMs, buildMs };
}
