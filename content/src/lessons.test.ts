// Lessons load and validate; each pilot lesson has the parts a hands-on lesson needs; broken lessons
// are refused with the file and the field (or line) named.
import { describe, expect, it } from 'vitest';
import { ContentError, loadExercises } from './exercises.ts';
import { svgProblems } from './lesson-components.ts';
import { loadLessons, parseLesson } from './lessons.ts';

const exercises = loadExercises();
const FILE = 'content/lessons/container-lifecycle.mdx';

const lesson = (frontmatter: string, body = '<Run cmd="docker ps" />\n\n<Exercise id="restarted-web" />\n') =>
  `---\n${frontmatter}\n---\n\n${body}`;
const valid = 'summary: Take a container through its life.\nminutes: 15\nexercises: [restarted-web]';

const problemsOf = (text: string, file = FILE) => {
  try {
    parseLesson(text, file, exercises);
  } catch (err) {
    expect(err).toBeInstanceOf(ContentError);
    return (err as Error).message;
  }
  throw new Error('the lesson was accepted');
};

describe('lessons', () => {
  const lessons = loadLessons();

  it('load in course order, the three pilots among them', () => {
    expect(lessons.map((l) => l.slug)).toEqual(
      expect.arrayContaining(['container-lifecycle', 'first-dockerfile', 'user-defined-networks']),
    );
    const slugs = lessons.map((l) => l.slug);
    expect(slugs.indexOf('container-lifecycle')).toBeLessThan(slugs.indexOf('first-dockerfile'));
  });

  it.each(['container-lifecycle', 'first-dockerfile', 'user-defined-networks'])(
    '%s has Runs, a Quiz, a Diagram, a Hint and its exercise',
    (slug) => {
      const l = lessons.find((x) => x.slug === slug)!;
      expect(l.runs.length).toBeGreaterThanOrEqual(3);
      for (const tag of ['Quiz', 'Diagram', 'Hint', 'Exercise']) expect(l.body).toMatch(new RegExp(`<${tag}\\b`));
      expect(l.frontmatter.exercises.length).toBeGreaterThanOrEqual(1);
    },
  );

  it('have Run commands with no double quotes in them', () => {
    for (const l of lessons) for (const cmd of l.runs) expect(cmd, `${l.slug}: ${cmd}`).not.toContain('"');
  });

  it('fills defaults, and collects Runs in order but not those shown in code', () => {
    const l = parseLesson(
      lesson(
        'summary: Take a container through its life.\nminutes: 5',
        '<Run cmd="docker ps" />\n\n```mdx\n<Run cmd="not me" />\n```\n\nSay `<Run cmd="nor me" />`.\n\n<Run cmd="docker ps -a" />\n',
      ),
      FILE,
      exercises,
    );
    expect(l.frontmatter.exercises).toEqual([]);
    expect(l.runs).toEqual(['docker ps', 'docker ps -a']);
  });

  it('names the file and the field of a bad frontmatter', () => {
    const msg = problemsOf(lesson('summary: Short\nminutes: 0\nexercises: [restarted-web]\nlevel: easy'));
    expect(msg).toContain(FILE);
    expect(msg).toMatch(/summary: .*10/);
    expect(msg).toMatch(/minutes: /);
    expect(msg).toMatch(/\(top\): .*level/);
    expect(problemsOf(lesson('summary: [oops'))).toMatch(/container-lifecycle\.mdx: the frontmatter is not valid YAML/);
    expect(problemsOf('No frontmatter here.\n')).toMatch(/container-lifecycle\.mdx: no frontmatter/);
  });

  it('refuses a slug outside the outline, and exercises that are missing or belong elsewhere', () => {
    expect(problemsOf(lesson(valid), 'content/lessons/nope.mdx')).toMatch(
      /"nope" is not a lesson of the course outline/,
    );
    const msg = problemsOf(
      lesson(
        'summary: Take a container through its life.\nminutes: 15\nexercises: [restarted-web, hello-app, ghost]',
        '<Exercise id="restarted-web" />\n<Exercise id="hello-app" />\n<Exercise id="ghost" />\n',
      ),
    );
    expect(msg).toContain(
      `exercises.1: "hello-app" belongs to the lesson "first-dockerfile", not to "container-lifecycle"`,
    );
    expect(msg).toContain('exercises.2: there is no exercise "ghost"');
  });

  it('refuses a Run in any other form, a <pre> diagram, and exercises missing from body or frontmatter', () => {
    const msg = problemsOf(
      lesson(
        valid,
        'One.\n\n<Run cmd="echo "hi"" />\n\n<Run>docker ps</Run>\n\n<Diagram caption="x">\n<pre>a</pre>\n</Diagram>\n\n<Exercise id="hello-app" />\n',
      ),
    );
    expect(msg).toMatch(/line 9: write a Run as <Run cmd="\.\.\." \/>/);
    expect(msg).toMatch(/line 11: write a Run/);
    expect(msg).toMatch(/line 14: put a diagram in a fenced text block/);
    expect(msg).toContain('<Exercise id="hello-app" /> is in the body but not listed');
    expect(msg).toContain('"restarted-web" is listed, but the body has no <Exercise id="restarted-web" />');
  });

  it('refuses a Quiz without its answer or an explanation per option, naming the line', () => {
    const quiz = (attrs: string) => lesson(valid, `<Exercise id="restarted-web" />\n\n<Quiz\n  ${attrs}\n/>\n`);
    const ok = `question="Q?" options={['a', 'b']} answer={1} why={['a is wrong: no.', 'b is right.']}`;
    expect(() => parseLesson(quiz(ok), FILE, exercises)).not.toThrow();
    expect(problemsOf(quiz(`question="Q?" options={['a', 'b']} why={['x', 'y']}`))).toMatch(
      /line 9: a Quiz needs answer=\{n\}: the index of the right option, 0 to 1/,
    );
    expect(problemsOf(quiz(`question="Q?" options={['a', 'b']} answer={2} why={['x', 'y']}`))).toMatch(/answer=/);
    expect(problemsOf(quiz(`question="Q?" options={['a', 'b', 'c']} answer={0} explain="old style"`))).toMatch(
      /a Quiz needs why=\{\[\.\.\.\]\}: 3 explanations/,
    );
    expect(problemsOf(quiz(`question="" options={['a']} answer={0} why={['x']}`))).toMatch(/question.*\n.*options/s);
  });

  it('refuses a Diagram whose drawing is missing, undescribed or coloured for one theme only', () => {
    const msg = problemsOf(
      lesson(valid, '<Exercise id="restarted-web" />\n\n<Diagram src="no-such-drawing" caption="x" />\n'),
    );
    expect(msg).toMatch(/line 9: Diagram src="no-such-drawing": there is no content\/diagrams\/no-such-drawing\.svg/);
    expect(msg).toMatch(/needs alt="\.\.\."/);
    expect(svgProblems('<svg viewBox="0 0 10 10"><rect fill="var(--accent)"/></svg>', 'ok')).toEqual([]);
    const bad = svgProblems('<svg width="100" viewBox="0 0 1 1"><rect fill="#fff" onclick="x()"/></svg>', 'bad');
    expect(bad.join('\n')).toMatch(/no width or height/);
    expect(bad.join('\n')).toMatch(/colour #fff is fixed/);
    expect(bad.join('\n')).toMatch(/no scripts, event handlers/);
    expect(svgProblems('<svg><g/></svg>', 'nobox')).toEqual(['content/diagrams/nobox.svg needs a viewBox']);
  });

  it('refuses a link to a lesson that does not exist, and an interactive entry that is no Run', () => {
    const msg = problemsOf(
      lesson(
        `${valid}\ninteractive:\n  - { cmd: "docker attach nope", keys: ["x"], exitCode: 0 }`,
        '<Exercise id="restarted-web" />\n\nNext: [volumes](/lessons/volumes/) and [ghost](/lessons/ghost-lesson/).\n',
      ),
    );
    expect(msg).toMatch(/line 11: the link \/lessons\/ghost-lesson\/ is not a lesson of the outline/);
    expect(msg).not.toMatch(/\/lessons\/volumes\//);
    expect(msg).toContain('interactive.0: "docker attach nope" is not a Run command of this lesson');
  });
});
