import { readFileSync } from 'node:fs';
import { lessons, LESSONS_DIR, loadExercises } from '@dockyard/content';
import { describe, expect, it } from 'vitest';
import { collectExamples, contextOfMeta, exampleId, fileBlocks, fileOfMeta, runCommand } from './examples.ts';

const fence = '```';
const lesson = (slug: string, body: string) => ({ slug, title: `Lesson ${slug}`, body });
const compose = `${fence}yaml file=compose.yaml\nservices:\n  web:\n    image: nginx\n${fence}\n`;

describe('examples', () => {
  it('makes ids of the lesson and the file name without dots', () => {
    expect(exampleId('logs-and-monitoring', 'compose.yaml')).toBe('logs-and-monitoring-composeyaml');
    expect(exampleId('first-dockerfile', 'Dockerfile')).toBe('first-dockerfile-Dockerfile');
    expect(exampleId('x', 'app/docker-compose.yml')).toBe('x-app-docker-composeyml');
  });

  it('runs compose files with Compose, Dockerfiles with a build, anything else not at all', () => {
    for (const f of ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'])
      expect(runCommand(f)).toBe('docker compose up -d');
    expect(runCommand('Dockerfile')).toBe('docker build -t example .');
    expect(runCommand('app/compose.yaml')).toBe('docker compose -f app/compose.yaml up -d');
    expect(runCommand('app/Dockerfile')).toBe('docker build -t example app');
    expect(runCommand('server.js')).toBeNull();
  });

  it('reads file= from the meta, and refuses a path out of ~/work', () => {
    expect(fileOfMeta('file=compose.yaml')).toBe('compose.yaml');
    expect(fileOfMeta('title="x" file="Dockerfile"')).toBe('Dockerfile');
    expect(fileOfMeta('')).toBeUndefined();
    expect(fileOfMeta('profile=x')).toBeUndefined();
    expect(() => fileOfMeta('file=../etc/passwd')).toThrow(/inside ~\/work/);
    expect(() => fileOfMeta('file=/etc/passwd')).toThrow(/inside ~\/work/);
  });

  it('reads context= from the meta', () => {
    expect(contextOfMeta('file=Dockerfile context=hello-app')).toBe('hello-app');
    expect(contextOfMeta('context="hello-app" file=Dockerfile')).toBe('hello-app');
    expect(contextOfMeta('file=Dockerfile')).toBeUndefined();
    expect(contextOfMeta('mycontext=x')).toBeUndefined();
  });

  it('collects only marked blocks, with their content, title, lesson and run command', () => {
    const body = `Text\n\n${fence}yaml\nnot: an example\n${fence}\n\n${compose}\n~~~dockerfile file=Dockerfile\nFROM busybox\n~~~\n`;
    expect(collectExamples([lesson('a', body)])).toEqual([
      {
        id: 'a-composeyaml',
        lesson: 'a',
        title: 'Lesson a',
        file: 'compose.yaml',
        content: 'services:\n  web:\n    image: nginx\n',
        run: 'docker compose up -d',
      },
      {
        id: 'a-Dockerfile',
        lesson: 'a',
        title: 'Lesson a',
        file: 'Dockerfile',
        content: 'FROM busybox\n',
        run: 'docker build -t example .',
      },
    ]);
  });

  it("carries the starter files of the exercise context= names, the block's own file replacing the starter's", () => {
    const body = `${fence}dockerfile file=app/Dockerfile context=hello\nFROM busybox\nCOPY x .\n${fence}\n`;
    const hello = { id: 'hello', starter: { files: { 'app/x': 'x\n', 'app/Dockerfile': '# to do\n' } } };
    const [example] = collectExamples([lesson('a', body)], [hello, { id: 'other', starter: { files: {} } }]);
    expect(example).toEqual({
      id: 'a-app-Dockerfile',
      lesson: 'a',
      title: 'Lesson a',
      file: 'app/Dockerfile',
      content: 'FROM busybox\nCOPY x .\n',
      files: { 'app/x': 'x\n' },
      run: 'docker build -t example app',
    });
    expect(fileBlocks(body)[0]!.context).toBe('hello');
  });

  it('rejects a context= that names no exercise, naming the lesson and line', () => {
    const body = `Text\n\n${fence}dockerfile file=Dockerfile context=no-such\nFROM busybox\n${fence}\n`;
    expect(() => collectExamples([lesson('a', body)], [])).toThrow(
      'content/lessons/a.mdx:3: context=no-such names no exercise (content/exercises/no-such.yaml)',
    );
  });

  it('does not take a fence inside a longer fence for a block of its own', () => {
    const body = `${fence}${fence}md\n${fence}yaml file=compose.yaml\nx: 1\n${fence}\n${fence}${fence}\n`;
    expect(fileBlocks(body)).toEqual([]);
  });

  it('rejects two examples with one id, naming both places', () => {
    expect(() => collectExamples([lesson('a', `${compose}\n${compose}`)])).toThrow(
      /content\/lessons\/a\.mdx:7: the example a-composeyaml is already at content\/lessons\/a\.mdx:1/,
    );
    expect(collectExamples([lesson('a', compose), lesson('b', compose)]).map((e) => e.id)).toEqual([
      'a-composeyaml',
      'b-composeyaml',
    ]);
  });

  it("builds the course's own examples, each context= naming an exercise", () => {
    const course = lessons.map((l) => ({ ...l, body: readFileSync(`${LESSONS_DIR}/${l.slug}.mdx`, 'utf8') }));
    const dockerfile = collectExamples(course, loadExercises()).find((e) => e.id === 'first-dockerfile-Dockerfile');
    expect(Object.keys(dockerfile?.files ?? {})).toEqual(['server.js']);
  });
});
