// The course's lessons as the workshop pages need them: every title by slug, and the written ones
// (those with a page in content/lessons/) in course order.
import { lessons } from '@dockyard/content';

const written = new Set(
  Object.keys(import.meta.glob('../../../content/lessons/*.mdx')).map((p) =>
    p
      .split('/')
      .pop()!
      .replace(/\.mdx$/, ''),
  ),
);

/** Lesson titles by slug, for islands that get slugs from the server (JSON in a data attribute). */
export const lessonTitles: Record<string, string> = Object.fromEntries(lessons.map((l) => [l.slug, l.title]));

/** The lessons a workshop can use, in course order. */
export const writtenLessons = lessons.filter((l) => written.has(l.slug)).map((l) => ({ slug: l.slug, title: l.title }));
