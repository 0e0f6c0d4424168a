// The test tiers `npm test` runs, each counted, ending in one line: "N passed, N failed".
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatFailures, readFailures } from './failures.ts';
import { run } from './lib/run.ts';
import { bold, dim, green, red, seconds } from './lib/steps.ts';

export const TIERS = ['lint', 'typecheck', 'unit', 'int', 'content', 'e2e', 'swarm', 'vm', 'runsc'] as const;
export type TierName = (typeof TIERS)[number];

interface Counts {
  passed: number;
  failed: number;
}

interface Tier {
  title: string;
  cmd: string[];
  env?: NodeJS.ProcessEnv;
  /** Counts from the tier's report; without one, the whole tier counts as one check. */
  report?: string;
  count?: (reportText: string) => Counts;
}

const vitestCounts = (text: string): Counts => {
  const r = JSON.parse(text) as { numPassedTests: number; numFailedTests: number };
  return { passed: r.numPassedTests, failed: r.numFailedTests };
};

/** Reports that say `{ passed, failed }` themselves (the proofs, the VM). */
const passedFailed = (text: string): Counts => {
  const r = JSON.parse(text) as Counts;
  return { passed: r.passed, failed: r.failed };
};

const playwrightCounts = (text: string): Counts => {
  const r = JSON.parse(text) as { stats: { expected: number; unexpected: number; flaky: number } };
  return { passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected };
};

/** Narrows a run: the exercises the content tier proves (all when empty). */
export interface TierFilter {
  exercises?: readonly string[];
}

function tier(name: TierName, reports: string, filter: TierFilter = {}): Tier {
  const vitest = (project: 'unit' | 'int' | 'swarm'): Tier => ({
    title: `${{ unit: 'Unit', int: 'Integration', swarm: 'Several sandbox hosts (Swarm)' }[project]} tests (vitest --project ${project})`,
    cmd: [
      'npx',
      'vitest',
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${join(reports, `${project}.json`)}`,
    ],
    report: join(reports, `${project}.json`),
    count: vitestCounts,
  });
  switch (name) {
    case 'lint':
      return { title: 'Lint (eslint, prettier)', cmd: ['npm', 'run', '--silent', 'lint'] };
    case 'typecheck':
      return { title: 'Typecheck (tsc, astro check)', cmd: ['npm', 'run', '--silent', 'typecheck'] };
    case 'unit':
      return vitest('unit');
    case 'int':
      return vitest('int');
    case 'swarm':
      return vitest('swarm');
    case 'content':
      return {
        title: 'Exercise proofs (npm run content:verify)',
        cmd: [
          'node',
          'sandbox-server/src/grader/verify.ts',
          '--report',
          join(reports, 'content.json'),
          ...(filter.exercises?.length ? ['--only', filter.exercises.join(',')] : []),
        ],
        report: join(reports, 'content.json'),
        count: passedFailed,
      };
    case 'runsc':
      return {
        title: 'Sandboxes under gVisor (conformance, abuse, lessons and proofs on runsc)',
        cmd: ['node', 'infra/setup/runsc-tier.ts', '--report', join(reports, 'runsc.json')],
        report: join(reports, 'runsc.json'),
        count: passedFailed,
      };
    case 'vm':
      return {
        title: 'cgroup v2 host (a Debian 12 VM under QEMU)',
        cmd: ['node', 'infra/vm/run.ts', '--report', join(reports, 'vm.json')],
        report: join(reports, 'vm.json'),
        count: passedFailed,
      };
    case 'e2e':
      return {
        title: 'End-to-end tests (Playwright, Chromium)',
        cmd: ['npx', 'playwright', 'test', '-c', 'e2e/playwright.config.ts', '--reporter=list,json'],
        env: { PLAYWRIGHT_JSON_OUTPUT_FILE: join(reports, 'e2e.json') },
        report: join(reports, 'e2e.json'),
        count: playwrightCounts,
      };
  }
}

/** The tiers that start sandboxes and servers: they wait more than they compute, so they run side by side. */
const SLOW: readonly TierName[] = ['int', 'content', 'e2e', 'swarm', 'vm', 'runsc'];
/**
 * The slow tiers that share a lane, one after the other: on a 2-core machine five at once, and then
 * four (the VM's emulation keeps a core busy for its whole run), made timing tests miss their marks.
 * Content and runsc are the shortest two; the VM follows them, by when int and e2e are nearly done;
 * the Swarm of three engines follows e2e.
 */
const LANES: readonly (readonly TierName[])[] = [['int'], ['e2e', 'swarm'], ['content', 'runsc', 'vm']];

interface TierOutcome {
  name: TierName;
  counts: Counts;
  ms: number;
}

async function runTier(
  root: string,
  name: TierName,
  reports: string,
  filter: TierFilter,
  log?: string,
): Promise<TierOutcome> {
  const t = tier(name, reports, filter);
  const started = performance.now();
  if (!log) console.log(bold(`\n▸ ${t.title}`));
  const out = log ? createWriteStream(log) : undefined;
  const r = await run(t.cmd, {
    cwd: root,
    inherit: !out,
    env: { ...process.env, ...t.env, ...(out ? { FORCE_COLOR: '0' } : {}) },
    ...(out ? { onLine: (line: string) => void out.write(`${line}\n`) } : {}),
  });
  await new Promise<void>((res) => (out ? out.end(res) : res()));
  let counts: Counts = r.code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
  if (t.report && t.count) {
    try {
      counts = t.count(readFileSync(t.report, 'utf8'));
      // A runner that crashed or exited non-zero without a failing test still fails the tier.
      if (r.code !== 0 && counts.failed === 0) counts.failed = 1;
    } catch {
      counts = { passed: 0, failed: 1 };
      console.log(red(`  no report from ${name} (${t.report}); counted as one failure`));
    }
  }
  return { name, counts, ms: performance.now() - started };
}

const result = (o: TierOutcome) =>
  `  ${o.counts.failed ? red('✗') : green('✓')} ${o.name}: ${o.counts.passed} passed, ${o.counts.failed} failed ${dim(`(${seconds(o.ms)})`)}`;

/**
 * Runs the tiers, all of them even after a failure, and prints the summary line. The quick ones go
 * first, in order, on the terminal; the slow ones then run at once, each into its own log
 * (`.reports/<tier>.log`), printed whole as it finishes, so the total is the slowest, not the sum.
 */
export async function runTiers(root: string, names: readonly TierName[], filter: TierFilter = {}): Promise<number> {
  const reports = join(root, '.reports');
  rmSync(reports, { recursive: true, force: true });
  mkdirSync(reports, { recursive: true });
  const outcomes: TierOutcome[] = [];
  for (const name of names.filter((n) => !SLOW.includes(n))) {
    const o = await runTier(root, name, reports, filter);
    console.log(result(o));
    outcomes.push(o);
  }
  const slow = names.filter((n) => SLOW.includes(n));
  if (slow.length === 1) {
    const o = await runTier(root, slow[0]!, reports, filter);
    console.log(result(o));
    outcomes.push(o);
  } else if (slow.length > 1) {
    console.log(
      bold(
        `\n▸ ${slow.map((n) => tier(n, reports).title).join(', ')}: side by side (content, then runsc, then the VM; e2e, then swarm), each shown when done`,
      ),
    );
    const started = performance.now();
    const ticker = setInterval(() => {
      const left = slow.filter((n) => !outcomes.some((o) => o.name === n));
      console.log(dim(`  … ${left.join(', ')} still running (${seconds(performance.now() - started)})`));
    }, 60_000);
    const lanes = LANES.map((lane) => lane.filter((n) => slow.includes(n))).filter((lane) => lane.length);
    await Promise.all(
      lanes.map(async (lane) => {
        for (const name of lane) {
          const log = join(reports, `${name}.log`);
          const o = await runTier(root, name, reports, filter, log);
          console.log(bold(`\n▸ ${tier(name, reports).title}`));
          console.log(readFileSync(log, 'utf8').trimEnd());
          console.log(result(o));
          outcomes.push(o);
        }
      }),
    );
    clearInterval(ticker);
  }
  const total = outcomes.reduce(
    (t, o) => ({ passed: t.passed + o.counts.passed, failed: t.failed + o.counts.failed }),
    {
      passed: 0,
      failed: 0,
    },
  );
  console.log(`\n${dim(outcomes.map((o) => `${o.name} ${seconds(o.ms)}`).join(', '))}`);
  if (total.failed) {
    // Last, so that a log cut to its end still says what failed and why.
    const failures = readFailures(root, reports);
    const unnamed = outcomes.filter((o) => o.counts.failed && !failures.some((f) => f.report.startsWith(o.name)));
    console.log(red(`\nWhat failed:`));
    if (failures.length) console.log(formatFailures(failures));
    for (const o of unnamed) console.log(`  ✗ [${o.name}] no test named in its report: see the tier's output above`);
  }
  console.log(`\n${total.passed} passed, ${total.failed} failed`);
  return total.failed === 0 ? 0 : 1;
}
