// The course's "Open in playground" examples: fenced code blocks of the lessons marked with a file
// name (```yaml file=compose.yaml), each a file the playground writes into ~/work and runs, with
// the starter files of an exercise beside it when the meta names one (context=hello-app).
// Pure functions over the lessons' MDX, so the JSON endpoint, the lesson pages' button and the
// tests agree on every id.

/** An example, as /playground/examples.json lists them (site/src/workspace/playground.ts reads it). */
export interface Example {
  /** `<lesson slug>-<file name without dots>`, unique in the course: `/playground/?example=<id>`. */
  id: string;
  /** The slug of the lesson it comes from. */
  lesson: string;
  /** Names the lesson, for the playground to say where the example comes from. */
  title: string;
  /** Its path in ~/work. */
  file: string;
  content: string;
  /**
   * What it needs beside it, its build context: the starter files of the exercise its `context=`
   * names, by path in ~/work, as that exercise puts them (and so as the lesson expects them); the
   * playground writes them before `file`. Absent without `context=`.
   */
  files?: Record<string, string>;
  /** The command that runs it in a node1 terminal; null when there is nothing to run. */
  run: string | null;
}

export interface LessonSource {
  slug: string;
  title: string;
  /** The lesson's MDX (frontmatter or not). */
  body: string;
}

/** An exercise as far as an example needs it: its starter files, by path in ~/work. */
export interface ContextSource {
  id: string;
  starter: { files: Record<string, string> };
}

/** A path inside ~/work: no leading slash, no `..`. */
const SAFE_FILE = /^(?!.*(?:^|\/)\.\.(?:\/|$))[\w.-][\w./-]*$/;
const COMPOSE_FILES = new Set(['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml']);

/** The `file=NAME` of a code block's meta string (after the language), if any. */
export function fileOfMeta(meta: string | null | undefined): string | undefined {
  const m = /(?:^|\s)file=("?)([^\s"]+)\1(?=\s|$)/.exec(meta ?? '');
  if (!m) return undefined;
  if (!SAFE_FILE.test(m[2]!)) throw new Error(`file=${m[2]}: an example's file must be a path inside ~/work`);
  return m[2];
}

/** The `context=<exercise id>` of a code block's meta string, if any. */
export function contextOfMeta(meta: string | null | undefined): string | undefined {
  return /(?:^|\s)context=("?)([^\s"]+)\1(?=\s|$)/.exec(meta ?? '')?.[2];
}

export const exampleId = (lesson: string, file: string) => `${lesson}-${file.replaceAll('.', '').replaceAll('/', '-')}`;

/** How the playground starts an example: Compose for a compose file, a build for a Dockerfile. */
export function runCommand(file: string): string | null {
  const slash = file.lastIndexOf('/');
  const dir = slash < 0 ? '' : file.slice(0, slash);
  const name = file.slice(slash + 1);
  if (COMPOSE_FILES.has(name)) return dir ? `docker compose -f ${file} up -d` : 'docker compose up -d';
  if (name === 'Dockerfile') return `docker build -t example ${dir || '.'}`;
  return null;
}

export interface FileBlock {
  file: string;
  /** The exercise whose starter files are its build context, from `context=`. */
  context?: string;
  content: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced code blocks of a Markdown text that carry `file=` in their meta, in order. */
export function fileBlocks(markdown: string): FileBlock[] {
  const lines = markdown.split('\n');
  const blocks: FileBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, , meta] = open;
    const close = new RegExp(`^ {0,3}${fence![0] === '`' ? '`' : '~'}{${fence!.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    const file = fileOfMeta(meta);
    if (file) {
      const body = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l.trimStart()));
      const context = contextOfMeta(meta);
      blocks.push({
        file,
        ...(context ? { context } : {}),
        content: body.length ? `${body.join('\n')}\n` : '',
        line: i + 1,
      });
    }
    i = end;
  }
  return blocks;
}

/**
 * Every example of the lessons, in their order. Two with the same id, or a `context=` that names no
 * exercise of `exercises`, are an error naming the lesson and line.
 */
export function collectExamples(lessons: readonly LessonSource[], exercises: readonly ContextSource[] = []): Example[] {
  const starters = new Map(exercises.map((e) => [e.id, e.starter.files]));
  const seen = new Map<string, string>();
  const examples: Example[] = [];
  for (const lesson of lessons) {
    for (const block of fileBlocks(lesson.body)) {
      const id = exampleId(lesson.slug, block.file);
      const where = `content/lessons/${lesson.slug}.mdx:${block.line}`;
      const before = seen.get(id);
      if (before) throw new Error(`${where}: the example ${id} is already at ${before}; an id must be unique`);
      seen.set(id, where);
      const example: Example = {
        id,
        lesson: lesson.slug,
        title: lesson.title,
        file: block.file,
        content: block.content,
        run: runCommand(block.file),
      };
      if (block.context !== undefined) {
        const starter = starters.get(block.context);
        if (!starter)
          throw new Error(
            `${where}: context=${block.context} names no exercise (content/exercises/${block.context}.yaml)`,
          );
        // The block replaces the exercise's own version of its file (a starter Dockerfile to fill in).
        example.files = Object.fromEntries(Object.entries(starter).filter(([path]) => path !== block.file));
      }
      examples.push(example);
    }
  }
  return examples;
}
