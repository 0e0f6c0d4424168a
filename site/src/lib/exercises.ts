// The exercises, read at build time through Vite (the pages are bundled, so the content package
// cannot find its folder by itself) and validated by the content schema.
import { parseExercise, type Exercise } from '@dockyard/content';

const files = import.meta.glob<string>('../../../content/exercises/*.yaml', {
  query: '?raw',
  import: 'default',
  eager: true,
});

export const exercises: Exercise[] = Object.entries(files).map(([path, text]) =>
  parseExercise(text, `content/exercises/${path.split('/').pop()}`),
);
