// The lesson page's weight budget, checked after every build: what a lesson page loads before the
// workspace opens (its scripts and their static imports, its styles), gzipped. The workspace
// (xterm) and the editor (Monaco) are dynamic imports and must stay out of it.
//   node scripts/budget.ts [distDir]     exits non-zero when a page is over budget
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET = { jsGzipBytes: 60 * 1024, cssGzipBytes: 25 * 1024 };
/** Marks of code that must never load before the workspace opens: xterm.js, Monaco. */
const LAZY_ONLY = ['xterm-helper-textarea', 'monaco-editor'];

export interface PageWeight {
  page: string;
  jsGzipBytes: number;
  cssGzipBytes: number;
  files: string[];
  lazyOnlyLoaded: string[];
}

const gz = (text: string | Buffer) => gzipSync(text).length;

/** What `html` (a page of `dist`) loads up front. */
export function pageWeight(dist: string, page: string): PageWeight {
  const html = readFileSync(join(dist, page), 'utf8');
  const seen = new Set<string>();
  let js = 0;
  let css = 0;
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    js += gz(text);
    for (const m of text.matchAll(/\bimport\s*(?:[\w*{}\s,$]*?from\s*)?["']([^"']+\.js)["']/g)) {
      visit(resolve(dirname(file), m[1]!));
    }
  };
  const fromRoot = (href: string) => join(dist, href.replace(/^\//, '').split('?')[0]!);
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"[^>]*>/g)) visit(fromRoot(m[1]!));
  for (const m of html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
    js += gz(m[1]!);
    for (const i of m[1]!.matchAll(/\bimport\s*(?:[\w*{}\s,$]*?from\s*)?["']([^"']+\.js)["']/g)) visit(fromRoot(i[1]!));
  }
  const styles: string[] = [];
  for (const m of html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"[^>]*>/g)) {
    const f = fromRoot(m[1]!);
    if (!existsSync(f)) continue;
    css += gz(readFileSync(f));
    styles.push(f.slice(dist.length + 1));
  }
  for (const m of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/g)) css += gz(m[1]!);
  const files = [...[...seen].map((f) => f.slice(dist.length + 1)), ...styles];
  return {
    page,
    jsGzipBytes: js,
    cssGzipBytes: css,
    files,
    lazyOnlyLoaded: files.filter((f) => {
      const text = readFileSync(join(dist, f), 'utf8');
      return LAZY_ONLY.some((mark) => text.includes(mark));
    }),
  };
}

/** Every lesson page of the build. */
export function lessonPages(dist: string): string[] {
  const dir = join(dist, 'lessons');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((slug) => join('lessons', slug, 'index.html'));
}

if (import.meta.main) {
  const dist = resolve(process.argv[2] ?? join(import.meta.dirname, '../dist'));
  const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`;
  let over = 0;
  for (const page of lessonPages(dist)) {
    const w = pageWeight(dist, page);
    const bad =
      w.jsGzipBytes > BUDGET.jsGzipBytes || w.cssGzipBytes > BUDGET.cssGzipBytes || w.lazyOnlyLoaded.length > 0;
    if (bad) over++;
    console.log(
      `  ${bad ? '✗' : '✓'} ${page}: JS ${kb(w.jsGzipBytes)} of ${kb(BUDGET.jsGzipBytes)}, CSS ${kb(w.cssGzipBytes)} of ${kb(BUDGET.cssGzipBytes)} (gzipped)` +
        (w.lazyOnlyLoaded.length ? `; loads ${w.lazyOnlyLoaded.join(', ')} before the workspace opens` : ''),
    );
  }
  if (over) {
    console.error(`${over} lesson page(s) over budget: see site/scripts/budget.ts`);
    process.exit(1);
  }
}
