// The join page: the code (typed, or from ?code=) shows the workshop; Join adds you to it and
// takes you to its first lesson.
import type { PublicWorkshopView } from '@dockyard/sandbox-server/protocol/api';
import { loadMe } from '../account/me.ts';
import { api, ApiFailure } from '../workspace/api.ts';
import { count, formatRange } from '../lib/format.ts';
import { h, showFailure, showProblem, whileBusy } from '../lib/ui.ts';

type PublicWorkshop = PublicWorkshopView;

const root = document.querySelector<HTMLElement>('[data-join]')!;
const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
const titles = JSON.parse(root.dataset.lessonTitles ?? '{}') as Record<string, string>;
const form = $<HTMLFormElement>('[data-join-form]');
const codeInput = $<HTMLInputElement>('#join-code');
const nameInput = $<HTMLInputElement>('#join-name');
const info = $('[data-workshop-info]');
const error = $('[data-error]');
let shown: PublicWorkshop | undefined;
let asked = '';
let guest = true;

const tidy = (code: string) =>
  code
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .slice(0, 6);
const firstLesson = (lessons: string[]) => (lessons[0] ? `/lessons/${lessons[0]}/` : '/course/');

function showWorkshop(w: PublicWorkshop | undefined): void {
  shown = w;
  if (!w) return info.replaceChildren();
  info.replaceChildren(
    h('h2', {}, w.title),
    h('p', { class: 'muted' }, `${formatRange(w.startsAt, w.endsAt)} · with ${w.instructor}`),
    h('ol', {}, ...w.lessons.map((slug) => h('li', {}, titles[slug] ?? slug))),
    w.seatsLeft > 0
      ? h('p', {}, `${count(w.seatsLeft, 'seat')} left`)
      : h('p', { class: 'full' }, 'No seats left: ask your instructor.'),
  );
}

async function lookUp(code: string): Promise<void> {
  if (code === asked) return;
  asked = code;
  showProblem(error);
  if (code.length < 6) return showWorkshop(undefined);
  try {
    const r = await api<{ workshop: PublicWorkshop }>('GET', `/api/workshops/join/${encodeURIComponent(code)}`);
    if (asked === code) showWorkshop(r.workshop);
  } catch (e) {
    if (asked !== code) return;
    showWorkshop(undefined);
    showFailure(error, e);
  }
}

nameInput.addEventListener('input', () => showProblem(error));

codeInput.addEventListener('input', () => {
  const at = codeInput.selectionStart ?? codeInput.value.length;
  const before = tidy(codeInput.value.slice(0, at)).length;
  codeInput.value = tidy(codeInput.value);
  codeInput.setSelectionRange(before, before);
  void lookUp(codeInput.value);
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const code = tidy(codeInput.value);
  const displayName = nameInput.value.trim();
  if (code.length !== 6) {
    showProblem(error, 'That code is not complete', 'A workshop code has six letters and digits.');
    return codeInput.focus();
  }
  if (guest && !displayName) {
    showProblem(error, 'Your name is needed', 'Type the name your instructor should see.');
    return nameInput.focus();
  }
  showProblem(error);
  void whileBusy($('[data-join-button]'), async () => {
    try {
      const r = await api<{ workshop: { lessons?: string[] } }>(
        'POST',
        `/api/workshops/join/${encodeURIComponent(code)}`,
        {
          ...(displayName ? { displayName } : {}),
        },
      );
      location.assign(firstLesson(r.workshop.lessons ?? shown?.lessons ?? []));
    } catch (err) {
      showFailure(error, err);
      const field = err instanceof ApiFailure && err.body.code === 'DISPLAY_NAME_REQUIRED' ? nameInput : codeInput;
      field.focus();
    }
  });
});

const fromUrl = tidy(new URLSearchParams(location.search).get('code') ?? '');
if (fromUrl) {
  codeInput.value = fromUrl;
  void lookUp(fromUrl);
}

void loadMe().then((me) => {
  if (!me) return;
  guest = me.user.guest;
  nameInput.required = guest;
  if (!guest && !nameInput.value) nameInput.value = me.user.displayName;
  $('[data-joined]').hidden = me.workshops.length === 0;
  $('[data-joined-list]').replaceChildren(
    ...me.workshops.map((w) => h('li', {}, h('a', { href: firstLesson(w.lessons) }, w.title), ` (code ${w.code})`)),
  );
});
