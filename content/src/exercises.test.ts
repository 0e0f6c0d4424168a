// Exercises load and validate; broken ones are refused with the file and field named; every check
// kind has at least one pilot exercise and is documented in the authoring guide.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_KINDS, checkSchema } from './checks.ts';
import { ContentError, loadExercises, parseExercise } from './exercises.ts';

const guide = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

const valid = `
id: sample
lesson: container-lifecycle
title: A sample
solution: docker run -d --name web nginx
checks:
  - id: web
    kind: container
    title: web runs
    name: web
    state: running
`;

describe('exercises', () => {
  const exercises = loadExercises();

  it('all load, and every check kind is used by at least one', () => {
    expect(exercises.length).toBeGreaterThanOrEqual(CHECK_KINDS.length);
    const used = new Set(exercises.flatMap((e) => e.checks.map((c) => c.kind)));
    expect([...used].sort()).toEqual([...CHECK_KINDS].sort());
  });

  it.each(CHECK_KINDS)('the authoring guide documents the %s kind', (kind) => {
    expect(guide).toMatch(new RegExp(`^\\| \`${kind}\` \\|`, 'm'));
  });

  it('fills defaults: points 1, no starter files', () => {
    const e = parseExercise(valid, 'content/exercises/sample.yaml');
    expect(e.checks[0]).toMatchObject({ points: 1 });
    expect(e.starter.files).toEqual({});
  });

  it('names the file and the field of a mistake', () => {
    const broken = valid
      .replace('state: running', 'state: sleeping')
      .replace('lesson: container-lifecycle', 'lesson: nope');
    expect(() => parseExercise(broken, 'content/exercises/sample.yaml')).toThrow(ContentError);
    try {
      parseExercise(broken, 'content/exercises/sample.yaml');
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain('content/exercises/sample.yaml');
      expect(msg).toMatch(/checks\.0\.state/);
      expect(msg).toMatch(/lesson: not a lesson of the course outline/);
    }
  });

  it('refuses an id that is not the file name, YAML that does not parse, and duplicate check ids', () => {
    expect(() => parseExercise(valid, 'content/exercises/other.yaml')).toThrow(/file name says "other"/);
    expect(() => parseExercise('id: [', 'content/exercises/x.yaml')).toThrow(/not valid YAML/);
    const dup = valid + valid.slice(valid.indexOf('  - id: web'));
    expect(() => parseExercise(dup, 'content/exercises/sample.yaml')).toThrow(/check id "web" is used twice/);
  });

  it('refuses a container check with neither or both of name and image, and a command without why', () => {
    const base = { id: 'c', title: 'A check', kind: 'container' };
    expect(checkSchema.safeParse(base).success).toBe(false);
    expect(checkSchema.safeParse({ ...base, name: 'a', image: 'b' }).success).toBe(false);
    expect(checkSchema.safeParse({ ...base, name: 'a' }).success).toBe(true);
    expect(checkSchema.safeParse({ id: 'c', title: 'A check', kind: 'command', run: 'true' }).success).toBe(false);
  });

  it('refuses starter files outside ~/work', () => {
    const escaping = valid.replace('solution:', 'starter:\n  files:\n    ../etc/passwd: x\nsolution:');
    expect(() => parseExercise(escaping, 'content/exercises/sample.yaml')).toThrow(
      /starter\.files\.\.\.\/etc\/passwd: not a path inside ~\/work/,
    );
  });
});
