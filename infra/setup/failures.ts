// What failed, read back from the tiers' reports: printed at the very end of `npm test`, where a CI
// log cut to its last lines still shows it. Each runner writes its own report format; this reads
// all of them (vitest's, Playwright's, the exercise proofs', the VM's).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Failure {
  /** The report it came from, e.g. `int` or `runsc-content`. */
  report: string;
  /** The test's name, with its file where the report has one. */
  test: string;
  /** The first lines of what the test said. */
  message: string;
}

const MESSAGE_LINES = 6;
const MESSAGE_CHARS = 600;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Stack frames of the test runner and of Node itself, which say nothing about the failure. */
const NOISE = /^\s*at (.*node_modules\/|new Promise|process\.processTicksAndRejections|node:)/;

/** The first lines of a failure message, colours and runner frames removed, so the digest stays short. */
export function firstLines(text: string): string {
  const lines = text
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !NOISE.test(l));
  const kept = lines.slice(0, MESSAGE_LINES).join('\n');
  return kept.length > MESSAGE_CHARS ? `${kept.slice(0, MESSAGE_CHARS)}…` : kept;
}

interface VitestReport {
  testResults: {
    name: string;
    message?: string;
    status?: string;
    assertionResults: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

interface PlaywrightSuite {
  title: string;
  file?: string;
  specs?: { title: string; ok: boolean; tests: { results: { error?: { message?: string } }[] }[] }[];
  suites?: PlaywrightSuite[];
}

interface Proofs {
  proofs: { exercise: string; failBefore: boolean; passAfter: boolean; problem?: string }[];
}

interface VmReport {
  results: { name: string; ok: boolean; detail?: string }[];
}

function relative(root: string, file: string): string {
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
}

function fromVitest(root: string, report: string, r: VitestReport): Failure[] {
  const out: Failure[] = [];
  for (const file of r.testResults) {
    const failed = file.assertionResults.filter((a) => a.status === 'failed');
    for (const a of failed) {
      out.push({
        report,
        test: `${relative(root, file.name)} › ${a.fullName}`,
        message: firstLines((a.failureMessages ?? []).join('\n')),
      });
    }
    // A file that failed before any test ran (an import error, a hook) has no failed test of its own.
    if (!failed.length && file.status === 'failed') {
      out.push({ report, test: relative(root, file.name), message: firstLines(file.message ?? '') });
    }
  }
  return out;
}

function fromPlaywright(report: string, suites: PlaywrightSuite[], path: string[] = []): Failure[] {
  const out: Failure[] = [];
  for (const s of suites) {
    const here = [...path, s.title].filter(Boolean);
    for (const spec of s.specs ?? []) {
      if (spec.ok) continue;
      const error = spec.tests.flatMap((t) => t.results).find((res) => res.error)?.error?.message ?? '';
      out.push({ report, test: [...here, spec.title].join(' › '), message: firstLines(error) });
    }
    out.push(...fromPlaywright(report, s.suites ?? [], here));
  }
  return out;
}

/** Every failure the reports in `dir` record, whatever wrote them. */
export function readFailures(root: string, dir: string): Failure[] {
  if (!existsSync(dir)) return [];
  const out: Failure[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const report = name.replace(/\.json$/, '');
    let r: unknown;
    try {
      r = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch {
      continue; // a missing or broken report is counted as a failure by the tier itself
    }
    if (!r || typeof r !== 'object') continue;
    if ('testResults' in r) out.push(...fromVitest(root, report, r as VitestReport));
    else if ('suites' in r) out.push(...fromPlaywright(report, (r as { suites: PlaywrightSuite[] }).suites));
    else if ('proofs' in r) {
      for (const p of (r as Proofs).proofs) {
        if (p.failBefore && p.passAfter) continue;
        out.push({ report, test: `exercise ${p.exercise}`, message: firstLines(p.problem ?? '') });
      }
    } else if ('results' in r) {
      for (const res of (r as VmReport).results) {
        if (!res.ok) out.push({ report, test: res.name, message: firstLines(res.detail ?? '') });
      }
    }
  }
  return out;
}

/** The digest printed after the tiers: one block per failure, the message indented under its name. */
export function formatFailures(failures: readonly Failure[]): string {
  return failures
    .map((f) => {
      const message = f.message ? `\n${f.message.replace(/^/gm, '      ')}` : '';
      return `  ✗ [${f.report}] ${f.test}${message}`;
    })
    .join('\n');
}
