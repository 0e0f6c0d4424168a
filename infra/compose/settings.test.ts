// The compose deployment's settings: defaults, refusals, and a line in docs/scale.md for each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSE_SETTINGS, readComposeSettings } from './settings.ts';

describe('readComposeSettings', () => {
  it('has a default for everything', () => {
    expect(readComposeSettings({})).toEqual({
      host: '127.0.0.1',
      port: 8080,
      previewPort: 8081,
      dataDir: '/var/lib/dockyard',
      dbPort: 5433,
    });
  });

  it('names the setting it refuses', () => {
    expect(() => readComposeSettings({ DOCKYARD_COMPOSE_PORT: '80a' })).toThrow(/DOCKYARD_COMPOSE_PORT/);
    expect(() => readComposeSettings({ DOCKYARD_COMPOSE_DATA_DIR: 'data' })).toThrow(/absolute/);
    expect(() => readComposeSettings({ DOCKYARD_COMPOSE_PREVIEW_PORT: '8080' })).toThrow(/must differ/);
  });

  const doc = readFileSync(join(import.meta.dirname, '../../docs/scale.md'), 'utf8');
  it.each(Object.entries(COMPOSE_SETTINGS))('docs/scale.md documents %s with its default', (name, [fallback]) => {
    expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\| \`${fallback.replaceAll('.', '\\.')}\` \\|`));
  });
});
