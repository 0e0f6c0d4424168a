// Lessons: one MDX file each in content/lessons/, named after its slug in the outline, validated at
// load with errors that name the file and the field. The <Run cmd="..." /> commands are collected in
// order, so CI can click through every lesson in a fresh sandbox (content/lessons.int.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ContentError, loadExercises, type Exercise } from './exercises.ts';
import { lessons as outlineLessons } from './outline.ts';
import { componentProblems } from './lesson-components.ts';
import { SWARM_TEMPLATE_IDS, templateNodes } from './templates.ts';

export const lessonFrontmatterSchema = z
  .object({
    summary: z.string().min(10).max(200).describe('One sentence on what the learner can do after the lesson'),
    minutes: z.number().int().min(1).max(120).describe('How long the lesson takes, hands-on part included, in minutes'),
    exercises: z
      .array(z.string().regex(/^[a-z0-9-]{1,80}$/, 'an exercise id: lowercase letters, digits and dashes'))
      .default([])
      .describe('The exercises the lesson ends with, by id; each must belong to this lesson'),
    interactive: z
      .array(
        z
          .object({
            cmd: z.string().min(1).describe('A Run command of this lesson, exactly as written'),
            keys: z
              .array(z.string().min(1))
              .min(1)
              .describe('What the learner types into it, one batch a second apart (use \\n for Enter)'),
            exitCode: z.number().int().min(0).max(255).describe('The status the command then ends with'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'Run commands that need a terminal (-it, attach): CI types these keys into them. Any other Run gets no terminal',
      ),
    saved: z
      .array(z.string().regex(/^[\w.-][\w./-]*$/, 'a path inside ~/work'))
      .default([])
      .describe(
        "Files the learner saves in the editor before the first Run: CI writes them as the lesson's exercise solution does (cat > path <<'END')",
      ),
    nodes: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(1)
      .describe('Nodes (sandboxes on one private network) the lesson needs: node1, node2...; the page adds them'),
    template: z
      .enum(SWARM_TEMPLATE_IDS)
      .optional()
      .describe('A Swarm the page forms of the nodes before the lesson starts (swarm-1-2: 1 manager + 2 workers)'),
  })
  .strict()
  .refine((f) => !f.template || f.nodes === templateNodes(f.template), {
    message: 'nodes must be the number of nodes the template makes (swarm-1-2: 3, swarm-3-2: 5)',
    path: ['nodes'],
  })
  .describe("A lesson's frontmatter: the YAML between the --- lines at the top of its .mdx file");

export type LessonFrontmatter = z.infer<typeof lessonFrontmatterSchema>;

export interface Lesson {
  /** The file name without .mdx: a lesson slug of the outline. */
  slug: string;
  frontmatter: LessonFrontmatter;
  /** The MDX after the frontmatter. */
  body: string;
  /** The commands of the lesson's <Run cmd="..." /> buttons, in reading order. */
  runs: string[];
  /** The line of each Run in the file, for messages. */
  runLines: number[];
}

export const LESSONS_DIR = resolve(import.meta.dirname, '../lessons');

const order = new Map(outlineLessons.map((l, i) => [l.slug, i]));
const FRONTMATTER = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
// The only form the site's Run button and this loader agree on: one double-quoted attribute.
const RUN = /^<Run\s+cmd="([^"]*)"\s*\/>/;
const EXERCISE = /<Exercise\s+id="([^"]*)"\s*\/>/g;

/** The body with the text of fenced code blocks blanked out (lines kept), so examples shown there don't count. */
function outsideFences(body: string): string {
  let fence = '';
  return body
    .split('\n')
    .map((line) => {
      const open = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (!fence && open) {
        fence = open;
        return '';
      }
      if (fence) {
        if (line.trim().startsWith(fence)) fence = '';
        return '';
      }
      return line;
    })
    .join('\n');
}

const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Parses and validates one lesson's text; `file` names it in errors; `exercises` are the course's. */
export function parseLesson(text: string, file: string, exercises: readonly Exercise[]): Lesson {
  const slug = file
    .split('/')
    .pop()!
    .replace(/\.mdx$/, '');
  if (!order.has(slug))
    throw new ContentError(`${file}: "${slug}" is not a lesson of the course outline (content/src/outline.ts)`);
  const fm = FRONTMATTER.exec(text);
  if (!fm)
    throw new ContentError(
      `${file}: no frontmatter: the file must start with a --- block (summary, minutes, exercises)`,
    );
  let data: unknown;
  try {
    data = parseYaml(fm[1]!);
  } catch (err) {
    throw new ContentError(`${file}: the frontmatter is not valid YAML: ${(err as Error).message}`);
  }
  const r = lessonFrontmatterSchema.safeParse(data ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new ContentError(`${file}: the frontmatter is not valid:\n${lines.join('\n')}`);
  }
  const frontmatter = r.data;
  const body = text.slice(fm[0].length);
  const bodyLine = lineAt(text, fm[0].length);
  const problems: string[] = [];

  frontmatter.exercises.forEach((id, i) => {
    const e = exercises.find((x) => x.id === id);
    if (!e) problems.push(`exercises.${i}: there is no exercise "${id}" (content/exercises/${id}.yaml)`);
    else if (e.lesson !== slug)
      problems.push(`exercises.${i}: "${id}" belongs to the lesson "${e.lesson}", not to "${slug}"`);
  });

  const unfenced = outsideFences(body);
  // Inline code blanked too, same length, so `<Run>` in prose is not a tag and indexes still match.
  const scan = unfenced.replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
  const runs: string[] = [];
  const runLines: number[] = [];
  const lineOf = (index: number) => bodyLine + lineAt(scan, index) - 1;
  for (const m of scan.matchAll(/<Run\b/g)) {
    const run = RUN.exec(unfenced.slice(m.index));
    if (run) {
      runs.push(run[1]!);
      runLines.push(lineOf(m.index));
    } else
      problems.push(
        `line ${bodyLine + lineAt(scan, m.index) - 1}: write a Run as <Run cmd="..." />, the command in double quotes with none inside it`,
      );
  }
  const shown = [...scan.matchAll(EXERCISE)].map((m) => m[1]!);
  for (const id of shown)
    if (!frontmatter.exercises.includes(id))
      problems.push(`exercises: <Exercise id="${id}" /> is in the body but not listed here`);
  for (const id of frontmatter.exercises)
    if (!shown.includes(id)) problems.push(`exercises: "${id}" is listed, but the body has no <Exercise id="${id}" />`);
  for (const m of scan.matchAll(/<pre\b/g))
    problems.push(
      `line ${bodyLine + lineAt(scan, m.index) - 1}: put a diagram in a fenced text block inside <Diagram>, not in <pre>: MDX reflows the text of a <pre>`,
    );

  frontmatter.interactive.forEach((t, i) => {
    if (!runs.includes(t.cmd)) problems.push(`interactive.${i}: "${t.cmd}" is not a Run command of this lesson`);
  });
  problems.push(...componentProblems(unfenced, scan, lineOf));

  if (problems.length) throw new ContentError(`${file}: the lesson is not valid:\n  ${problems.join('\n  ')}`);
  return { slug, frontmatter, body, runs, runLines };
}

/** Every lesson in `dir`, in course order; throws one ContentError listing every broken file. */
export function loadLessons(dir = LESSONS_DIR, exercises: readonly Exercise[] = loadExercises()): Lesson[] {
  const lessons: Lesson[] = [];
  const problems: string[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.mdx'))
    .sort()) {
    try {
      lessons.push(parseLesson(readFileSync(join(dir, f), 'utf8'), `content/lessons/${f}`, exercises));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length) throw new ContentError(problems.join('\n'));
  return lessons.sort((a, b) => order.get(a.slug)! - order.get(b.slug)!);
}
