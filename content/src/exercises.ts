// Exercises: one YAML file each in content/exercises/, validated at load with errors that name the
// file and the field. An exercise has starter files, a reference solution and its checks; CI
// proves every exercise (`npm run content:verify`): all checks fail on a fresh sandbox with the
// starter files, and all pass after the solution.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkSchema } from './checks.ts';
import { outline } from './outline.ts';

const slug = z.string().regex(/^[a-z0-9-]{1,80}$/, 'kebab-case: lowercase letters, digits and dashes');
const SAFE_PATH = /^(?!\/)(?!.*\.\.)[A-Za-z0-9_./-]+$/;
const lessonSlugs = new Set(outline.flatMap((m) => m.lessons.map((l) => l.slug)));

export const exerciseSchema = z
  .object({
    id: slug.describe('Unique id; the file is content/exercises/<id>.yaml'),
    lesson: slug
      .refine((s) => lessonSlugs.has(s), 'not a lesson of the course outline (content/src/outline.ts)')
      .describe('The lesson it belongs to'),
    title: z.string().min(3).max(140).describe('What the learner builds, in a few words'),
    starter: z
      .object({
        files: z
          .record(z.string().describe('Path relative to ~/work'), z.string())
          .default({})
          .superRefine((files, ctx) => {
            for (const path of Object.keys(files)) {
              if (!SAFE_PATH.test(path)) {
                ctx.addIssue({
                  code: 'custom',
                  path: [path],
                  message: 'not a path inside ~/work (no leading /, no ..)',
                });
              }
            }
          })
          .describe('Files put in ~/work before the learner starts'),
        setup: z.string().optional().describe('Bash run in ~/work after the files, e.g. to start a broken container'),
      })
      .strict()
      .default({ files: {} })
      .describe("The exercise's starting point"),
    solution: z.string().min(1).describe('Reference solution: bash run in ~/work; CI proves it makes every check pass'),
    checks: z
      .array(checkSchema)
      .min(1)
      .superRefine((checks, ctx) => {
        const seen = new Set<string>();
        for (const c of checks) {
          if (seen.has(c.id)) ctx.addIssue({ code: 'custom', message: `check id "${c.id}" is used twice` });
          seen.add(c.id);
        }
      })
      .describe('What the grader checks, in the order the learner sees them'),
  })
  .strict()
  .describe('One graded exercise');

export type Exercise = z.infer<typeof exerciseSchema>;

export const EXERCISES_DIR = resolve(import.meta.dirname, '../exercises');

export class ContentError extends Error {
  override name = 'ContentError';
}

/** Parses and validates one exercise file's text; `file` names it in errors. */
export function parseExercise(text: string, file: string): Exercise {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ContentError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const r = exerciseSchema.safeParse(data);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new ContentError(`${file}: the exercise is not valid:\n${lines.join('\n')}`);
  }
  const expected = file
    .split('/')
    .pop()!
    .replace(/\.ya?ml$/, '');
  if (r.data.id !== expected)
    throw new ContentError(`${file}: id is "${r.data.id}", but the file name says "${expected}"`);
  return r.data;
}

/** Every exercise in `dir`, sorted by id; throws one ContentError listing every broken file. */
export function loadExercises(dir = EXERCISES_DIR): Exercise[] {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  const exercises: Exercise[] = [];
  const problems: string[] = [];
  for (const f of files.sort()) {
    try {
      exercises.push(parseExercise(readFileSync(join(dir, f), 'utf8'), `content/exercises/${f}`));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new ContentError(problems.join('\n'));
  return exercises;
}
