// The completion page: asks the server for the page its id names and shows it, or says plainly
// that there is none. Only the id is read from the address; names and dates come from the store.
import type { CompletedLesson, CompletionPage } from '@dockyard/sandbox-server/protocol/api';
import { count, formatDay } from '../lib/format.ts';
import { failure, h } from '../lib/ui.ts';
import { api, ApiFailure } from '../workspace/api.ts';

const root = document.querySelector<HTMLElement>('[data-completion-page]')!;
const $ = <T extends HTMLElement = HTMLElement>(sel: string) => root.querySelector<T>(sel)!;

/** A day as people read it, and as machines do (`<time datetime>`), both in the reader's time zone. */
function day(ms: number): HTMLTimeElement {
  const d = new Date(ms);
  const iso = [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, '0')).join('-');
  return h('time', { datetime: iso }, formatDay(ms));
}

function group(lessons: CompletedLesson[]): Map<string, CompletedLesson[]> {
  const byModule = new Map<string, CompletedLesson[]>();
  for (const l of lessons) byModule.set(l.module, [...(byModule.get(l.module) ?? []), l]);
  return byModule;
}

function show(page: CompletionPage): void {
  const name = page.learner.displayName;
  const passes = page.lessons.flatMap((l) => l.exercises.flatMap((e) => (e.passedAt === null ? [] : [e.passedAt])));
  document.title = `${name} completed the Docker course · Dockyard`;
  $('[data-title]').textContent = `${name} completed the Docker course`;
  const first = Math.min(...passes);
  const last = page.completedAt ?? Math.max(...passes);
  $('[data-summary]').replaceChildren(
    `${page.complete ? `All ${count(page.exercises, 'exercise')}` : count(page.passed, 'exercise')} passed, `,
    `in ${count(group(page.lessons).size, 'module')}: the first on `,
    day(first),
    ', the last on ',
    day(last),
    '.',
  );
  const grown = $('[data-grown]');
  grown.hidden = page.complete;
  if (!page.complete) {
    grown.replaceChildren(
      `The course has grown since ${name} completed it (page made on `,
      day(page.createdAt),
      `): ${count(page.exercises - page.passed, 'newer exercise')} not passed yet.`,
    );
  }
  $('[data-groups]').replaceChildren(
    ...[...group(page.lessons)].map(([module, lessons]) =>
      h(
        'section',
        {},
        h('h2', {}, module),
        h(
          'ul',
          {},
          ...lessons.map((l) =>
            h(
              'li',
              { class: 'lesson' },
              h('h3', {}, l.title),
              h(
                'ul',
                {},
                ...l.exercises.map((e) =>
                  h(
                    'li',
                    { class: 'exercise', 'data-exercise': e.id, 'data-passed': String(e.passedAt !== null) },
                    h('span', { class: 'mark', 'aria-hidden': 'true' }, e.passedAt === null ? '○' : '✓'),
                    h('span', {}, e.title),
                    h(
                      'span',
                      { class: 'when' },
                      ...(e.passedAt === null ? ['not passed yet'] : ['passed on ', day(e.passedAt)]),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  $('[data-provenance]').textContent =
    `Built from the records of the Dockyard at ${location.host} when you opened it; ${name} cannot edit it.`;
  $('[data-found]').hidden = false;
}

async function load(): Promise<void> {
  const id = new URLSearchParams(location.search).get('id') ?? '';
  try {
    if (!id) throw new ApiFailure(404, { code: 'COMPLETION_NOT_FOUND', title: '', hint: '' });
    show(await api<CompletionPage>('GET', `/api/completions/${encodeURIComponent(id)}`));
  } catch (e) {
    if (e instanceof ApiFailure && e.body.code === 'COMPLETION_NOT_FOUND') {
      document.title = 'Completion page not found · Dockyard';
      $('[data-not-found]').hidden = false;
    } else {
      const { title, hint } = failure(e);
      $('[data-failed-text]').textContent = `${title}. ${hint}`;
      $('[data-failed]').hidden = false;
    }
  } finally {
    $('[data-loading]').hidden = true;
  }
}

void load();
