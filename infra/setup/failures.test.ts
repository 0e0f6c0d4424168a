import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { firstLines, formatFailures, readFailures } from './failures.ts';

const root = '/repo';
let dir = '';

function reports(files: Record<string, unknown>): string {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-failures-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the failure digest', () => {
  it('names each failed test of every report kind, with the first lines of its message', () => {
    const d = reports({
      'int.json': {
        numPassedTests: 1,
        numFailedTests: 1,
        testResults: [
          {
            name: '/repo/images/library.int.test.ts',
            status: 'failed',
            assertionResults: [
              { fullName: 'library builds', status: 'passed' },
              {
                fullName: 'library runs the syntax demo',
                status: 'failed',
                failureMessages: [
                  '\u001b[31mAssertionError: expected "" to be "hello"\u001b[39m\n    at line 1\n    at file:///repo/node_modules/vitest/dist/run.js:1:2',
                ],
              },
            ],
          },
          { name: '/repo/a.int.test.ts', status: 'failed', message: 'Cannot find module x', assertionResults: [] },
        ],
      },
      'e2e.json': {
        stats: { expected: 1, unexpected: 1, flaky: 0 },
        suites: [
          {
            title: 'lesson.spec.ts',
            specs: [{ title: 'passes', ok: true, tests: [{ results: [{}] }] }],
            suites: [
              {
                title: 'terminal',
                specs: [
                  { title: 'echoes', ok: false, tests: [{ results: [{ error: { message: 'Timed out 5000ms' } }] }] },
                ],
              },
            ],
          },
        ],
      },
      'runsc-content.json': {
        passed: 1,
        failed: 1,
        proofs: [
          { exercise: 'ok', failBefore: true, passAfter: true },
          { exercise: 'keep-data', failBefore: true, passAfter: false, problem: 'after: volume-used' },
        ],
      },
      'vm.json': {
        passed: 1,
        failed: 1,
        results: [
          { name: 'boots', ok: true },
          { name: 'pids', ok: false, detail: 'fork' },
        ],
      },
      'runsc.json': { passed: 3, failed: 0 },
      'broken.json': '{ not json',
    });
    const failures = readFailures(root, d);
    expect(failures.map((f) => [f.report, f.test])).toEqual([
      ['e2e', 'lesson.spec.ts › terminal › echoes'],
      ['int', 'images/library.int.test.ts › library runs the syntax demo'],
      ['int', 'a.int.test.ts'],
      ['runsc-content', 'exercise keep-data'],
      ['vm', 'pids'],
    ]);
    expect(failures[1]!.message).toBe('AssertionError: expected "" to be "hello"\n    at line 1');
    const text = formatFailures(failures);
    expect(text).toContain('  ✗ [int] images/library.int.test.ts › library runs the syntax demo\n      AssertionError');
    expect(text).toContain('  ✗ [runsc-content] exercise keep-data\n      after: volume-used');
  });

  it('finds nothing where every test passed, or where there are no reports', () => {
    const d = reports({
      'unit.json': {
        testResults: [{ name: '/repo/x.test.ts', assertionResults: [{ fullName: 'x', status: 'passed' }] }],
      },
    });
    expect(readFailures(root, d)).toEqual([]);
    expect(readFailures(root, join(d, 'absent'))).toEqual([]);
  });

  it('keeps a long message short', () => {
    const long = Array.from({ length: 20 }, (_, i) => `line ${i} ${'x'.repeat(80)}`).join('\n');
    const short = firstLines(long);
    expect(short.split('\n').length).toBeLessThanOrEqual(6);
    expect(short.length).toBeLessThanOrEqual(601);
  });
});
