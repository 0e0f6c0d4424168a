// The builder's pure parts: keys change with inputs, tags never claim a version the image lacks.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeKeys, selectSpecs, tagsFor } from './build.ts';
import { catalog, specByName, type ImageSpec } from './catalog.ts';
import { inputKey } from './lib/key.ts';

describe('inputKey', () => {
  it('changes when a file changes or is added, not when dist/ does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-key-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM x\n');
    const k1 = inputKey(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM y\n');
    const k2 = inputKey(dir);
    writeFileSync(join(dir, 'extra.txt'), 'hi');
    const k3 = inputKey(dir);
    expect(new Set([k1, k2, k3]).size).toBe(3);
    expect(inputKey(dir, ['a'])).not.toBe(k3);
  });
});

describe('computeKeys', () => {
  it('gives every catalog image a key', () => {
    expect(computeKeys(catalog).size).toBe(catalog.length);
  });

  it('passes a change in a base recipe on to the images built from it', () => {
    const root = mkdtempSync(join(tmpdir(), 'dockyard-cat-'));
    for (const d of ['base', 'app', 'other']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'base/build.sh'), 'v1');
    writeFileSync(join(root, 'app/Dockerfile'), 'FROM base');
    writeFileSync(join(root, 'other/Dockerfile'), 'FROM scratch');
    const specs: ImageSpec[] = [
      { ...specByName('debian'), dir: 'base' },
      { ...specByName('nginx'), dir: 'app' },
      { ...specByName('busybox'), dir: 'other' },
    ];
    const before = computeKeys(specs, root);
    writeFileSync(join(root, 'base/build.sh'), 'v2');
    const after = computeKeys(specs, root);
    expect(after.get('debian')).not.toBe(before.get('debian'));
    expect(after.get('nginx')).not.toBe(before.get('nginx'));
    expect(after.get('busybox')).toBe(before.get('busybox'));
  });

  it('refuses a spec whose base comes later', () => {
    expect(() => computeKeys([specByName('nginx')])).toThrow(/built from debian, which must come first/);
  });
});

describe('tagsFor', () => {
  it('adds the probed full version to the declared tags', () => {
    expect(tagsFor(specByName('nginx'), '1.26.3')).toEqual(['1.26.3', '1.26', '1', 'latest']);
  });

  it('refuses a tag that promises another version than the image holds', () => {
    expect(() => tagsFor(specByName('nginx'), '1.24.0')).toThrow(
      /promises version 1.26, but the image contains 1.24.0/,
    );
    expect(() => tagsFor(specByName('redis'), '8.01.1')).toThrow(/promises version 8.0/);
  });
});

describe('the server image', () => {
  it('is built on demand only, and for its own inputs', () => {
    expect(selectSpecs().map((s) => s.name)).not.toContain('server');
    expect(selectSpecs([], true).map((s) => s.name)).toContain('server');
    expect(selectSpecs(['server']).map((s) => s.name)).toEqual(['debian', 'server']);
  });

  it('leaves the key of every image without repository inputs as it was', () => {
    const root = mkdtempSync(join(tmpdir(), 'dockyard-cat-'));
    mkdirSync(join(root, 'base'));
    writeFileSync(join(root, 'base/build.sh'), 'v1');
    const spec = { ...specByName('debian'), dir: 'base' };
    const args = JSON.stringify(spec.buildArgs);
    expect(computeKeys([spec], root).get('debian')).toBe(
      inputKey(join(root, 'base'), ['', '', spec.tags.join(','), args]),
    );
  });

  it('changes key when a file of the server changes', () => {
    const root = mkdtempSync(join(tmpdir(), 'dockyard-repo-'));
    for (const d of ['images/base', 'images/app', 'src']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'images/base/build.sh'), 'v1');
    writeFileSync(join(root, 'images/app/Dockerfile'), 'FROM base');
    writeFileSync(join(root, 'src/main.ts'), 'one');
    writeFileSync(join(root, 'src/main.test.ts'), 'a test');
    const specs: ImageSpec[] = [
      { ...specByName('debian'), dir: 'base' },
      { ...specByName('server'), dir: 'app', repoInputs: ['src'] },
    ];
    const key = () => computeKeys(specs, join(root, 'images'), root).get('server');
    const before = key();
    writeFileSync(join(root, 'src/main.test.ts'), 'another test');
    expect(key()).toBe(before);
    writeFileSync(join(root, 'src/main.ts'), 'two');
    expect(key()).not.toBe(before);
  });
});

describe('selectSpecs', () => {
  it('includes what an image is built from, in catalog order', () => {
    expect(selectSpecs(['hello']).map((s) => s.name)).toEqual(['busybox', 'hello']);
  });
  it('names the known images when asked for an unknown one', () => {
    expect(() => selectSpecs(['nginxx'])).toThrow(
      /Unknown image "nginxx". Known: debian, dockerfile-frontend, debian-bookworm, busybox/,
    );
  });
});
