// The docs keep up with the code: every setting is in README's table, every error code in docs/errors.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from './config.ts';
import { errorCatalogue } from './errors.ts';

const root = join(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const errorsDoc = readFileSync(join(root, 'docs/errors.md'), 'utf8');

describe('documentation', () => {
  it.each(Object.keys(configSchema.shape))('README documents the setting %s', (key) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });

  it.each(Object.entries(errorCatalogue))('docs/errors.md documents %s with its status and title', (code, e) => {
    const row = errorsDoc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${e.status} |`);
    expect(row).toContain(e.title);
  });

  it('documents no error code the catalogue lacks', () => {
    const documented = [...errorsDoc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCatalogue).sort());
  });
});
