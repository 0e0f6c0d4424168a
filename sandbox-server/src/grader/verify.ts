// The proof runner (`npm run content:verify`): every exercise, in a fresh sandbox of its own, must
// fail every check from its starting point and pass every check after its reference solution.
// Prints a table, writes a JSON report for the test tiers, and exits non-zero if any proof fails.
//   node sandbox-server/src/grader/verify.ts [--only id,id] [--parallel N] [--report file.json] [--runtime runsc]
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadExercises, loadLessons, type Exercise, type Lesson } from '@dockyard/content';
import { DockerDriver } from '../drivers/docker/docker-driver.ts';
import { dockerClient } from '../engine/engine.ts';
import { SandboxFiles } from '../files/sandbox-files.ts';
import { createNodes, type NodeSet } from '../sessions/node-set.ts';
import { grade, MissingNode, type GradeReport } from './grader.ts';
import { sandboxProbe, WORK_DIR } from './probe.ts';

const GiB = 2 ** 30;
const LIMITS = { memoryBytes: 2 * GiB, cpus: 1, pids: 1024, storageBytes: 4 * GiB };

export interface Proof {
  exercise: string;
  /** Every check failed on the starting point (none passed, none errored). */
  failBefore: boolean;
  /** Every check passed after the reference solution. */
  passAfter: boolean;
  before?: GradeReport;
  after?: GradeReport;
  /** What went wrong, in words, when the proof does not hold. */
  problem?: string;
  ms: number;
}

const listChecks = (r: GradeReport, status: string) =>
  r.checks
    .filter((c) => c.status !== status)
    .map((c) => `${c.id} ${c.status}: ${c.message}`)
    .join('; ');

/**
 * Proves one exercise on the nodes its lesson asks for (`nodes`, `template`), its Swarm formed
 * before the starter as the lesson page forms it before the learner starts. The starter, the
 * solution and checks without a `node` go to node1.
 */
export async function prove(driver: DockerDriver, exercise: Exercise, lesson?: Lesson): Promise<Proof> {
  const started = performance.now();
  const id = `v${randomBytes(5).toString('hex')}`;
  const ms = () => Math.round(performance.now() - started);
  let set: NodeSet | undefined;
  try {
    set = await createNodes(driver, {
      id,
      nodes: lesson?.frontmatter.nodes ?? 1,
      template: lesson?.frontmatter.template,
      limits: LIMITS,
      labels: { 'org.dockyard.verify': exercise.id },
    });
    const { nodes } = set;
    const node1 = nodes[0]!.sandboxId;
    const files = new SandboxFiles((cmd, o) => driver.exec(node1, cmd, o), { root: WORK_DIR, maxBytes: 1 << 20 });
    for (const [path, content] of Object.entries(exercise.starter.files)) await files.write(path, content);
    if (exercise.starter.setup) {
      const r = await driver.exec(node1, ['bash', '-e', '-c', exercise.starter.setup], { timeoutMs: 180_000 });
      if (r.exitCode !== 0)
        return {
          exercise: exercise.id,
          failBefore: false,
          passAfter: false,
          problem: `setup failed: ${r.stderr.trim()}`,
          ms: ms(),
        };
    }
    const probe = (name: string) => {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new MissingNode(name);
      return sandboxProbe(driver, node.sandboxId);
    };
    // A check the platform could not run (a probe past its time on a loaded machine) is graded
    // again, as the learner is told to do; a check that ran and failed is not.
    const gradeRetryingFaults = async () => {
      const report = await grade(exercise, probe);
      return report.checks.some((c) => c.status === 'error') ? grade(exercise, probe) : report;
    };
    const before = await gradeRetryingFaults();
    const failBefore = before.checks.every((c) => c.status === 'failed');
    const solved = await driver.exec(node1, ['bash', '-e', '-c', exercise.solution], { timeoutMs: 300_000 });
    if (solved.exitCode !== 0) {
      const tail = (solved.stderr || solved.stdout).trim().split('\n').slice(-3).join(' | ');
      return {
        exercise: exercise.id,
        failBefore,
        passAfter: false,
        before,
        problem: `the solution failed (${solved.exitCode}): ${tail}`,
        ms: ms(),
      };
    }
    const after = await gradeRetryingFaults();
    const passAfter = after.passed;
    const problems = [
      failBefore ? '' : `before: ${listChecks(before, 'failed')}`,
      passAfter ? '' : `after: ${listChecks(after, 'passed')}`,
    ].filter(Boolean);
    return {
      exercise: exercise.id,
      failBefore,
      passAfter,
      before,
      after,
      ...(problems.length ? { problem: problems.join(' / ') } : {}),
      ms: ms(),
    };
  } catch (err) {
    return { exercise: exercise.id, failBefore: false, passAfter: false, problem: (err as Error).message, ms: ms() };
  } finally {
    await set?.remove();
  }
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  });
  await Promise.all(runners);
  return results;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function table(proofs: Proof[]): string {
  const rows = proofs.map((p) => [
    p.exercise,
    p.failBefore ? 'yes' : 'NO',
    p.passAfter ? 'yes' : 'NO',
    `${(p.ms / 1000).toFixed(1)} s`,
    p.after ? `${p.after.ms} ms` : '-',
  ]);
  const head = ['exercise', 'fail-before', 'pass-after', 'time', 'grade'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      parallel: { type: 'string', default: process.env.DOCKYARD_VERIFY_PARALLEL ?? '3' },
      report: { type: 'string' },
      // The OCI runtime of the sandboxes (the `runsc` tier proves a subset under gVisor).
      runtime: { type: 'string', default: 'runc' },
    },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const all = loadExercises();
  const exercises = all.filter((e) => !only || only.includes(e.id));
  const lessons = new Map(loadLessons(undefined, all).map((l) => [l.slug, l]));
  if (exercises.length === 0) throw new Error(`No exercise matches --only ${values.only}`);
  const parallel = Math.max(1, Number(values.parallel) || 1);
  const driver = new DockerDriver(dockerClient(process.env.DOCKYARD_DOCKER_SOCKET ?? '/var/run/docker.sock'), {
    runtime: values.runtime,
  });
  console.log(`Proving ${exercises.length} exercises, ${parallel} at a time, on ${values.runtime}...`);
  const started = performance.now();
  const proofs = await pool(exercises, parallel, async (e) => {
    const p = await prove(driver, e, lessons.get(e.lesson));
    const mark = p.failBefore && p.passAfter ? '✓' : '✗';
    console.log(`  ${mark} ${e.id} (${(p.ms / 1000).toFixed(1)} s)${p.problem ? `: ${p.problem}` : ''}`);
    return p;
  });
  console.log(`\n${table(proofs)}\n`);
  const grades = proofs.flatMap((p) => [p.before?.ms, p.after?.ms]).filter((x): x is number => x !== undefined);
  const proved = proofs.filter((p) => p.failBefore && p.passAfter).length;
  console.log(
    `  ${proved} of ${proofs.length} exercises proved in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
      `grade latency over ${grades.length} gradings: p50 ${percentile(grades, 50)} ms, p95 ${percentile(grades, 95)} ms`,
  );
  if (values.report) {
    mkdirSync(dirname(values.report), { recursive: true });
    writeFileSync(values.report, JSON.stringify({ passed: proved, failed: proofs.length - proved, proofs }, null, 2));
  }
  return proved === proofs.length ? 0 : 1;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
