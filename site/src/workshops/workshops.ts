// The workshops page: an instructor creates a workshop and sees theirs (an admin sees all), each
// with its join code, link and dashboard.
import { isInstructor, watchMe } from '../account/me.ts';
import { api } from '../workspace/api.ts';
import { count, formatRange, toLocalInput } from '../lib/format.ts';
import { copyButton, h, showFailure, showProblem, whileBusy } from '../lib/ui.ts';
import type { WorkshopView } from '@dockyard/sandbox-server/protocol/api';

/** A workshop as its owner sees it (POST and GET /api/workshops). */
export type Workshop = WorkshopView;

const root = document.querySelector<HTMLElement>('[data-workshops]')!;
const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
const titles = JSON.parse(root.dataset.lessonTitles ?? '{}') as Record<string, string>;
const form = $<HTMLFormElement>('[data-create-workshop]');
const list = $<HTMLUListElement>('[data-workshop-list]');
const MINUTE = 60_000;

function card(w: Workshop): HTMLLIElement {
  const linkId = `join-link-${w.id}`;
  const link = h('input', { id: linkId, value: w.joinUrl, readonly: true, 'data-join-link': true });
  link.addEventListener('focus', () => link.select());
  return h(
    'li',
    { class: 'card', 'data-workshop': w.id },
    h('h3', { id: `workshop-${w.id}`, tabindex: -1 }, w.title),
    h('p', { class: 'muted' }, formatRange(w.startsAt, w.endsAt)),
    h(
      'p',
      { class: 'code-line' },
      h('span', {}, 'Join code'),
      h('span', { class: 'join-code', 'data-join-code': true }, w.code),
      h('span', { class: 'muted' }, `${count(w.members, 'learner')} joined of ${w.seatLimit}`),
    ),
    h('label', { for: linkId, class: 'note' }, 'Join link'),
    h(
      'p',
      { class: 'link-line' },
      link,
      copyButton(() => w.joinUrl),
    ),
    h('p', { class: 'note' }, 'Lessons: ', w.lessons.map((s) => titles[s] ?? s).join(', ')),
    h(
      'p',
      { class: 'actions' },
      h('a', { class: 'button', href: `/workshops/live/?id=${encodeURIComponent(w.id)}` }, 'Open dashboard'),
    ),
  );
}

function render(workshops: Workshop[]): void {
  list.replaceChildren(...workshops.map(card));
  $('[data-none]').hidden = workshops.length > 0;
}

function resetTimes(): void {
  const start = Math.ceil((Date.now() + 10 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;
  $<HTMLInputElement>('#ws-starts').value = toLocalInput(start);
  $<HTMLInputElement>('#ws-ends').value = toLocalInput(start + 120 * MINUTE);
}

async function loadList(): Promise<void> {
  try {
    render((await api<{ workshops: Workshop[] }>('GET', '/api/workshops')).workshops);
  } catch (e) {
    showFailure($('[data-list-error]'), e);
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const error = $('[data-error]');
  const data = new FormData(form);
  const lessons = data.getAll('lessons').map(String);
  const startsAt = new Date(String(data.get('startsAt'))).getTime();
  const endsAt = new Date(String(data.get('endsAt'))).getTime();
  if (!lessons.length) return showProblem(error, 'Pick at least one lesson', 'Tick the lessons the workshop covers.');
  if (!(endsAt > startsAt)) return showProblem(error, 'The workshop ends before it starts', 'Check the two times.');
  showProblem(error);
  void whileBusy(form.querySelector('button[type="submit"]')!, async () => {
    try {
      const { workshop } = await api<{ workshop: Workshop }>('POST', '/api/workshops', {
        title: String(data.get('title')).trim(),
        lessons,
        startsAt,
        endsAt,
        seatLimit: Number(data.get('seatLimit')),
      });
      list.prepend(card(workshop));
      $('[data-none]').hidden = true;
      form.reset();
      resetTimes();
      root.querySelector<HTMLElement>(`#workshop-${CSS.escape(workshop.id)}`)?.focus();
    } catch (err) {
      showFailure(error, err);
    }
  });
});

watchMe((me) => {
  const allowed = isInstructor(me?.user);
  $('[data-loading]').hidden = true;
  $('[data-not-instructor]').hidden = allowed;
  $('[data-instructor]').hidden = !allowed;
  if (!allowed) return;
  $('[data-list-title]').textContent = me?.user.role === 'admin' ? 'All workshops' : 'Your workshops';
  if (!$<HTMLInputElement>('#ws-starts').value) resetTimes();
  void loadList();
});
