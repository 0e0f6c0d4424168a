// Checks of the components a lesson uses, done when it loads so a broken one fails the build and the
// tests with its line: a Quiz must have its answer and say why each option is right or wrong, a
// Diagram must name a drawing that exists and describe it in words, a link must reach a lesson.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { lessons as outlineLessons } from './outline.ts';

/** One SVG file per diagram: `<Diagram src="layers" />` is content/diagrams/layers.svg. */
export const DIAGRAMS_DIR = resolve(import.meta.dirname, '../diagrams');

const slugs = new Set(outlineLessons.map((l) => l.slug));

/** The attributes of a self-closing tag that starts at `text[0]`: strings and `{expressions}`. */
function attributes(text: string): { attrs: Map<string, string>; end: number } | undefined {
  const attrs = new Map<string, string>();
  let i = text.indexOf(' ');
  while (i < text.length) {
    const rest = text.slice(i);
    const close = /^\s*\/>/.exec(rest);
    if (close) return { attrs, end: i + close[0].length };
    const name = /^\s+([A-Za-z][\w-]*)=/.exec(rest);
    if (!name) return undefined;
    i += name[0].length;
    if (text[i] === '"') {
      const endQuote = text.indexOf('"', i + 1);
      if (endQuote < 0) return undefined;
      attrs.set(name[1]!, text.slice(i + 1, endQuote));
      i = endQuote + 1;
    } else if (text[i] === '{') {
      // Braces balanced, outside of quoted strings.
      let depth = 0;
      let quote = '';
      let j = i;
      for (; j < text.length; j++) {
        const c = text[j]!;
        if (quote) {
          if (c === '\\') j++;
          else if (c === quote) quote = '';
        } else if (c === "'" || c === '"' || c === '`') quote = c;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) break;
      }
      if (depth !== 0) return undefined;
      attrs.set(name[1]!, text.slice(i, j + 1));
      i = j + 1;
    } else return undefined;
  }
  return undefined;
}

/** The value of a `{...}` attribute: a literal (array, number, string), evaluated with nothing in scope. */
function literal(expr: string): unknown {
  try {
    // Our own lessons' literals, nothing to guard against: no timeout (a busy machine made 50 ms fail).
    return runInNewContext(`(${expr.slice(1, -1)})`, Object.create(null));
  } catch {
    return undefined;
  }
}

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim() !== '');

function quizProblems(attrs: Map<string, string>): string[] {
  const problems: string[] = [];
  if (!attrs.get('question')?.trim()) problems.push('a Quiz needs a question="..."');
  const options = literal(attrs.get('options') ?? '{undefined}');
  if (!isStrings(options) || options.length < 2)
    return [...problems, "a Quiz needs options={['...', '...']}: at least two, none empty"];
  const answer = literal(attrs.get('answer') ?? '{undefined}');
  if (typeof answer !== 'number' || !Number.isInteger(answer) || answer < 0 || answer >= options.length)
    problems.push(`a Quiz needs answer={n}: the index of the right option, 0 to ${options.length - 1}`);
  const why = literal(attrs.get('why') ?? '{undefined}');
  if (!isStrings(why) || why.length !== options.length)
    problems.push(
      `a Quiz needs why={[...]}: ${options.length} explanations, one per option, each wrong one saying why it is wrong`,
    );
  return problems;
}

function diagramProblems(attrs: Map<string, string>): string[] {
  const src = attrs.get('src');
  if (src === undefined) return [];
  const problems: string[] = [];
  if (!/^[a-z0-9-]+$/.test(src)) problems.push(`Diagram src="${src}": a name of lowercase letters, digits and dashes`);
  else if (!existsSync(join(DIAGRAMS_DIR, `${src}.svg`)))
    problems.push(`Diagram src="${src}": there is no content/diagrams/${src}.svg`);
  else problems.push(...svgProblems(readFileSync(join(DIAGRAMS_DIR, `${src}.svg`), 'utf8'), src));
  if (!attrs.get('alt')?.trim()) problems.push(`Diagram src="${src}" needs alt="...": the picture in words`);
  if (!attrs.get('caption')?.trim()) problems.push(`Diagram src="${src}" needs a caption="..."`);
  return problems;
}

/** An SVG must scale and follow the theme: a viewBox, no fixed size, no hard-coded colours, nothing active. */
export function svgProblems(svg: string, name: string): string[] {
  const problems: string[] = [];
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  if (!root) return [`content/diagrams/${name}.svg is not an SVG`];
  if (!/\bviewBox=/.test(root)) problems.push(`content/diagrams/${name}.svg needs a viewBox`);
  if (/\s(width|height)="\d/.test(root))
    problems.push(`content/diagrams/${name}.svg: no width or height on <svg>, so it scales to the column`);
  if (/<script\b|\son\w+=|xlink:href="http|href="http/i.test(svg))
    problems.push(`content/diagrams/${name}.svg: no scripts, event handlers or external links`);
  const colour =
    /(?:fill|stroke|color|stop-color)\s*[=:]\s*"?\s*(#[0-9a-f]{3,8}|rgba?\(|hsla?\(|(?:black|white|red|green|blue|gray|grey)\b)/i.exec(
      svg,
    );
  if (colour)
    problems.push(
      `content/diagrams/${name}.svg: colour ${colour[1]} is fixed; use var(--text), var(--accent)... or currentColor so dark mode works`,
    );
  return problems;
}

/** Problems with the lesson's Quiz and Diagram tags and its links to lessons, each with its line. */
export function componentProblems(unfenced: string, scan: string, lineOf: (index: number) => number): string[] {
  const problems: string[] = [];
  for (const m of scan.matchAll(/<(Quiz|Diagram)\b/g)) {
    const tag = m[1]!;
    const parsed = attributes(unfenced.slice(m.index));
    const at = `line ${lineOf(m.index)}`;
    if (!parsed) {
      // A Diagram may wrap a fenced drawing: <Diagram caption="...">...</Diagram>.
      if (tag === 'Diagram' && /^<Diagram\s+caption="[^"]*"\s*>/.test(unfenced.slice(m.index))) continue;
      problems.push(`${at}: write <${tag} attr="..." attr={...} /> on its own, self-closing`);
      continue;
    }
    const found = tag === 'Quiz' ? quizProblems(parsed.attrs) : diagramProblems(parsed.attrs);
    for (const p of found) problems.push(`${at}: ${p}`);
  }
  for (const m of scan.matchAll(/\]\((\/lessons\/[^)\s]*)\)|href="(\/lessons\/[^"]*)"/g)) {
    const target = (m[1] ?? m[2])!;
    const slug = /^\/lessons\/([a-z0-9-]+)\/?(#[\w-]*)?$/.exec(target)?.[1];
    if (!slug || !slugs.has(slug))
      problems.push(`line ${lineOf(m.index)}: the link ${target} is not a lesson of the outline (/lessons/<slug>/)`);
  }
  return problems;
}
