// Stamps: a file holding the key of the inputs a setup step last ran for, so repeat runs skip it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { listInputs } from '../../../images/lib/key.ts';
import { join } from 'node:path';

/** Hash of the given files and of every file under the given folders (build outputs excluded). */
export function keyOf(paths: readonly string[], extra = ''): string {
  const h = createHash('sha256').update(extra);
  for (const p of paths) {
    if (!existsSync(p)) continue;
    let files: string[];
    try {
      files = listInputs(p).map((f) => join(p, f));
    } catch {
      files = [p];
    }
    for (const f of files) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 24);
}

export const stampMatches = (file: string, key: string) =>
  existsSync(file) && readFileSync(file, 'utf8').trim() === key;
export const writeStamp = (file: string, key: string) => writeFileSync(file, `${key}\n`);
