// Input keys: an image is rebuilt only when the hash of its recipe files (or its base's key) changes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
