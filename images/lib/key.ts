// Input keys: an image is rebuilt only when the hash of its recipe files (or its base's key) changes.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Folders inside a recipe that hold build outputs, not inputs. */
const IGNORED = new Set(['dist', 'node_modules', '.astro', 'test-results']);

/** Every file under `dir`, sorted, as paths relative to it. */
export function listInputs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (IGNORED.has(entry.name)) continue;
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** sha256 over each input's path, mode and content, plus the extra parts given. */
export function inputKey(dir: string, extra: readonly string[] = []): string {
  const h = createHash('sha256');
  for (const file of listInputs(dir)) {
    const full = join(dir, file);
    h.update(`${file}\0${statSync(full).mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(full));
    h.update('\0');
  }
  for (const part of extra) h.update(`extra\0${part}\0`);
  return h.digest('hex').slice(0, 24);
}

/** Test files are never inputs of an image: the server image ships none. */
const TEST_FILE = /\.test\.ts$/;

/**
 * Files of the repository an image is built from (the server image's sources), relative to `root`,
 * sorted: each input is a file or a folder taken whole, less tests, test support and build outputs.
 * An input that does not exist yet (the site before its build) adds nothing.
 */
export function repoFiles(root: string, inputs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = join(root, rel);
    if (!statSync(full).isDirectory()) {
      if (!TEST_FILE.test(rel)) out.push(rel);
      return;
    }
    for (const entry of readdirSync(full, { withFileTypes: true })) {
      if (IGNORED.has(entry.name) || entry.name === 'test-support') continue;
      walk(join(rel, entry.name));
    }
  };
  for (const input of inputs) if (existsSync(join(root, input))) walk(input);
  return [...new Set(out)].sort();
}

/** sha256 over each of those files' path, mode and content, like inputKey. */
export function repoInputsKey(root: string, inputs: readonly string[]): string {
  const h = createHash('sha256');
  for (const file of repoFiles(root, inputs)) {
    const full = join(root, file);
    h.update(`${file}\0${statSync(full).mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(full));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 24);
}
