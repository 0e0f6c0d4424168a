// The lessons' drawings (content/diagrams/*.svg) by name, read at build time.
const files = import.meta.glob<string>('../../../content/diagrams/*.svg', {
  query: '?raw',
  import: 'default',
  eager: true,
});

export const DIAGRAMS: ReadonlyMap<string, string> = new Map(
  Object.entries(files).map(([path, svg]) => [
    path
      .split('/')
      .pop()!
      .replace(/\.svg$/, ''),
    svg,
  ]),
);
