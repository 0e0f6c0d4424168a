// /playground/examples.json: the course's examples (code blocks marked file=...), in course order,
// with the starter files of the exercises their context= names, built with the site. The
// playground's ?example=<id> looks its example up here.
import { lessons } from '@dockyard/content';
import type { APIRoute } from 'astro';
import { collectExamples } from '../../lib/examples.ts';
// Not loadExercises(): the page is bundled, so the content package cannot find its folder by itself.
import { exercises } from '../../lib/exercises.ts';

const files = import.meta.glob<string>('../../../../content/lessons/*.mdx', {
  query: '?raw',
  import: 'default',
  eager: true,
});
const bodies = new Map(
  Object.entries(files).map(([path, text]) => [
    path
      .split('/')
      .pop()!
      .replace(/\.mdx$/, ''),
    text,
  ]),
);

/** Throws at build time on two examples with one id, or a context= that names no exercise. */
const examples = collectExamples(
  lessons.filter((l) => bodies.has(l.slug)).map((l) => ({ slug: l.slug, title: l.title, body: bodies.get(l.slug)! })),
  exercises,
);

export const GET: APIRoute = () =>
  new Response(JSON.stringify(examples), { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
