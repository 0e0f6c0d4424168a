// The budget counts what a page loads up front (scripts, their static imports, styles), not what it
// imports later, and flags xterm or Monaco loaded before the workspace opens.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lessonPages, pageWeight } from './budget.ts';

function dist(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-budget-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const page =
  '<html><head><link rel="stylesheet" href="/_astro/a.css"><style>p{color:red}</style></head>' +
  '<body><script type="module" src="/_astro/boot.js"></script></body></html>';

describe('pageWeight', () => {
  it('counts scripts with their static imports and styles, not dynamic imports', () => {
    const d = dist({
      'lessons/x/index.html': page,
      '_astro/boot.js': 'import{a}from"./shared.js";const w=()=>import("./workspace.js");',
      '_astro/shared.js': 'export const a=1;',
      '_astro/workspace.js': 'const t="xterm-helper-textarea";'.repeat(1000),
      '_astro/a.css': 'body{margin:0}',
    });
    expect(lessonPages(d)).toEqual(['lessons/x/index.html']);
    const w = pageWeight(d, 'lessons/x/index.html');
    expect(w.files.sort()).toEqual(['_astro/a.css', '_astro/boot.js', '_astro/shared.js']);
    expect(w.jsGzipBytes).toBeGreaterThan(0);
    expect(w.jsGzipBytes).toBeLessThan(200);
    expect(w.cssGzipBytes).toBeGreaterThan(0);
    expect(w.lazyOnlyLoaded).toEqual([]);
  });

  it("flags Monaco's styles linked up front", () => {
    const d = dist({
      'lessons/x/index.html': page,
      '_astro/boot.js': '',
      '_astro/a.css': '.monaco-editor{color:red}',
    });
    expect(pageWeight(d, 'lessons/x/index.html').lazyOnlyLoaded).toEqual(['_astro/a.css']);
  });

  it('flags xterm loaded up front', () => {
    const d = dist({
      'lessons/x/index.html': page,
      '_astro/boot.js': 'import"./workspace.js";',
      '_astro/workspace.js': 'const t="xterm-helper-textarea";',
      '_astro/a.css': '',
    });
    expect(pageWeight(d, 'lessons/x/index.html').lazyOnlyLoaded).toEqual(['_astro/workspace.js']);
  });
});
