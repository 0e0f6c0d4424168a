// Lessons load and validate; each pilot lesson has the parts a hands-on lesson needs; broken lessons
// are refused with the file and the field (or line) named.
import { describe, expect, it } from 'vitest';
import { ContentError, loadExercises } from './exercises.ts';
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
    '%s has Runs, a Quiz, a Diagram, a Hint and its exercise at the end',
    (slug) => {
      const l = lessons.find((x) => x.slug === slug)!;
      expect(l.runs.length).toBeGreaterThanOrEqual(3);
      for (const tag of ['Quiz', 'Diagram', 'Hint', 'Exercise']) expect(l.body).toMatch(new RegExp(`<${tag}\\b`));
      expect(l.frontmatter.exercises.length).toBeGreaterThanOrEqual(1);
      expect(l.body.trimEnd()).toMatch(/<Exercise id="[a-z0-9-]+" \/>$/);
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
});
