// The `runsc` tier of `npm test`: the driver conformance suite, port previews through the preview
// origin, the abuse suite and a subset of the
// lessons (content/lessons.int.test.ts, RUNSC_LESSONS) and exercise proofs (RUNSC_EXERCISES) with
// sandboxes under gVisor. Skipped, with the reason, where runsc cannot start a networked container.
//   node infra/setup/runsc-tier.ts [--report file.json] [--all]
// --all (or DOCKYARD_TEST_ALL_LESSONS=1) takes every lesson and exercise of one node instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadExercises, loadLessons } from '../../content/src/index.ts';
import { run } from './lib/run.ts';
import { probeRunsc } from './lib/runsc.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Exercises proved on runsc in CI: lesson 10's app build, ports, networks, volumes, Compose, a multi-stage build. */
export const RUNSC_EXERCISES = ['hello-app', 'publish-web2', 'app-net', 'keep-data', 'compose-basics', 'go-multistage'];

const FILES = [
  'sandbox-server/src/drivers/docker/docker-driver.int.test.ts',
  'sandbox-server/src/previews/previews.int.test.ts',
  'infra/engine/abuse.int.test.ts',
  'content/lessons.int.test.ts',
];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { report: { type: 'string' }, all: { type: 'boolean', default: false } } });
  const report = values.report ?? join(ROOT, '.reports/runsc.json');
  const all = values.all || process.env.DOCKYARD_TEST_ALL_LESSONS === '1';
  const probe = await probeRunsc();
  if (!probe.ok) {
    console.log(`runsc cannot start a networked container on this host, nothing to run: ${probe.reason}`);
    writeFileSync(report, JSON.stringify({ passed: 0, failed: 0, skipped: probe.reason }));
    return 0;
  }
  const env = { ...process.env, DOCKYARD_TEST_RUNTIMES: 'runsc', ...(all ? { DOCKYARD_TEST_ALL_LESSONS: '1' } : {}) };
  const vitestReport = report.replace(/\.json$/, '-vitest.json');
  const tests = await run(
    [
      'npx',
      'vitest',
      'run',
      '--project',
      'int',
      ...FILES,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${vitestReport}`,
    ],
    { cwd: ROOT, env, inherit: true },
  );
  const exercises = loadExercises();
  const single = new Set(
    loadLessons(undefined, exercises)
      .filter((l) => l.frontmatter.nodes === 1)
      .map((l) => l.slug),
  );
  const only = all ? exercises.filter((e) => single.has(e.lesson)).map((e) => e.id) : RUNSC_EXERCISES;
  const proofsReport = report.replace(/\.json$/, '-content.json');
  const proofs = await run(
    [
      'node',
      'sandbox-server/src/grader/verify.ts',
      '--runtime',
      'runsc',
      '--only',
      only.join(','),
      '--report',
      proofsReport,
    ],
    { cwd: ROOT, inherit: true },
  );
  const counts = { passed: 0, failed: 0 };
  try {
    const v = JSON.parse(readFileSync(vitestReport, 'utf8')) as { numPassedTests: number; numFailedTests: number };
    counts.passed += v.numPassedTests;
    counts.failed += v.numFailedTests || (tests.code === 0 ? 0 : 1);
  } catch {
    counts.failed += 1;
  }
  try {
    const p = JSON.parse(readFileSync(proofsReport, 'utf8')) as { passed: number; failed: number };
    counts.passed += p.passed;
    counts.failed += p.failed || (proofs.code === 0 ? 0 : 1);
  } catch {
    counts.failed += 1;
  }
  writeFileSync(report, JSON.stringify(counts));
  return counts.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
