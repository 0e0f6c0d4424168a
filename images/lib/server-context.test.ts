// The server image holds every file the server imports, and no test.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_INPUTS } from '../catalog.ts';
import { repoFiles } from './key.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WORKSPACES: Record<string, string> = { '@dockyard/content': 'content/src/index.ts' };

/** Repository files reached from `entry` by static and dynamic imports of relative paths and workspaces. */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const [, spec] of text.matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
      if (spec!.startsWith('.')) visit(relative(ROOT, resolve(ROOT, dirname(file), spec!)));
      else if (WORKSPACES[spec!]) visit(WORKSPACES[spec!]!);
    }
  };
  visit(entry);
  return seen;
}

describe('the server image', () => {
  const files = new Set(repoFiles(ROOT, SERVER_INPUTS));

  it('holds every file the server imports', () => {
    const closure = importClosure('sandbox-server/src/main.ts');
    expect(closure.size).toBeGreaterThan(50); // the import pattern still finds the server's imports
    expect([...closure].filter((f) => !files.has(f))).toEqual([]);
  });

  it('holds no tests', () => {
    expect([...files].filter((f) => f.endsWith('.test.ts') || f.includes('test-support/'))).toEqual([]);
  });
});
