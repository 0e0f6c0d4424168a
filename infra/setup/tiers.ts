// The test tiers `npm test` runs, each counted, ending in one line: "N passed, N failed".
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './lib/run.ts';
import { bold, dim, green, red, seconds } from './lib/steps.ts';

export const TIERS = ['lint', 'typecheck', 'unit', 'int', 'content', 'e2e'] as const;
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

const playwrightCounts = (text: string): Counts => {
  const r = JSON.parse(text) as { stats: { expected: number; unexpected: number; flaky: number } };
  return { passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected };
};

/** Narrows a run: the exercises the content tier proves (all when empty). */
export interface TierFilter {
  exercises?: readonly string[];
}

function tier(name: TierName, reports: string, filter: TierFilter = {}): Tier {
  const vitest = (project: string): Tier => ({
    title: `${project === 'unit' ? 'Unit' : 'Integration'} tests (vitest --project ${project})`,
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
        count: (text) => {
          const r = JSON.parse(text) as Counts;
          return { passed: r.passed, failed: r.failed };
        },
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

/** Runs the tiers in order, all of them even after a failure, and prints the summary line. */
export async function runTiers(root: string, names: readonly TierName[], filter: TierFilter = {}): Promise<number> {
  const reports = join(root, '.reports');
  rmSync(reports, { recursive: true, force: true });
  mkdirSync(reports, { recursive: true });
  const total: Counts = { passed: 0, failed: 0 };
  for (const name of names) {
    const t = tier(name, reports, filter);
    console.log(bold(`\n▸ ${t.title}`));
    const started = performance.now();
    const r = await run(t.cmd, { cwd: root, inherit: true, env: { ...process.env, ...t.env } });
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
    total.passed += counts.passed;
    total.failed += counts.failed;
    const mark = counts.failed ? red('✗') : green('✓');
    console.log(
      `  ${mark} ${name}: ${counts.passed} passed, ${counts.failed} failed ${dim(`(${seconds(performance.now() - started)})`)}`,
    );
  }
  console.log(`\n${total.passed} passed, ${total.failed} failed`);
  return total.failed === 0 ? 0 : 1;
}
