// What a lesson page runs before the workspace opens: kept tiny. Run buttons, Copy buttons,
// quizzes, the resizable split and the phone tabs; the workspace itself (xterm and the rest)
// is loaded only when the learner starts it, or at once after a reload if it was open.
import { formatDay } from '../lib/format.ts';
import type { Workspace } from './workspace.ts';

const page = document.querySelector<HTMLElement>('[data-lesson]');
const root = document.querySelector<HTMLElement>('[data-workspace]');
let workspace: Promise<Workspace> | undefined;

/**
 * The Start button while the workspace's code loads: busy at once, so a click is seen to be taken;
 * if the code cannot load (the connection dropped), it says so, and what to do.
 */
function loading(): () => void {
  const start = root!.querySelector<HTMLButtonElement>('[data-start]');
  const note = root!.querySelector<HTMLElement>('[data-start-note]');
  if (!start || !note) return () => undefined;
  start.setAttribute('aria-busy', 'true');
  start.textContent = 'Starting…';
  note.textContent = '';
  return () => {
    start.removeAttribute('aria-busy');
    start.textContent = 'Start my sandbox';
    note.textContent =
      'Your sandbox could not start: this page could not load what it needs (is your connection down?). Reload the page to try again.';
  };
}

/** Starts the workspace once; `focus` puts the keyboard in its terminal (the learner asked for it). */
function ensureWorkspace(focus = false): Promise<Workspace> {
  if (workspace) return workspace;
  const failed = loading();
  const code = import('./workspace.ts');
  code.catch(() => {
    workspace = undefined;
    failed();
  });
  workspace = code.then((m) =>
    m.startWorkspace(root!, {
      lesson: page!.dataset.lesson!,
      focus,
      nodes: Number(page!.dataset.nodes ?? 1),
      ...(page!.dataset.template
        ? { template: { id: page!.dataset.template, title: page!.dataset.templateTitle! } }
        : {}),
    }),
  );
  return workspace;
}

function showWorkspaceTab(): void {
  page?.setAttribute('data-tab', 'workspace');
  for (const t of document.querySelectorAll('[data-tab-button]')) {
    t.setAttribute('aria-selected', String(t.getAttribute('data-tab-button') === 'workspace'));
  }
}

/** What the learner did here before (kept by the server): shown on each exercise until the checks run. */
async function showPastProgress(): Promise<void> {
  const res = await fetch('/api/progress', { credentials: 'same-origin' }).catch(() => undefined);
  if (!res?.ok) return;
  const { progress } = (await res.json()) as {
    progress: {
      exercise: string;
      passed: boolean;
      bestScore: number;
      maxScore: number;
      attempts: number;
      lastCompletedAt: number | null;
    }[];
  };
  for (const p of progress) {
    const line = document.querySelector<HTMLElement>(`[data-exercise="${CSS.escape(p.exercise)}"] [data-past]`);
    if (!line) continue;
    line.textContent = p.passed
      ? `✓ You passed this on ${formatDay(p.lastCompletedAt!)}.`
      : `Your best so far: ${p.bestScore} / ${p.maxScore} points.`;
    line.hidden = false;
  }
}

/** "Check my work" before there is a sandbox to check: say what to do, with the button that does it. */
function notStarted(check: HTMLElement): void {
  const note = check.parentElement?.querySelector<HTMLElement>('[data-check-note]');
  if (!note) return;
  const start = document.createElement('button');
  start.type = 'button';
  start.className = 'small-button accent';
  start.textContent = 'Start my sandbox';
  start.addEventListener('click', () => {
    showWorkspaceTab();
    void ensureWorkspace(true);
    note.textContent = 'Starting your sandbox… Do the steps above in its terminal: the checks run by themselves.';
  });
  // A live region announces what changes after it exists: the role first, the words a moment later.
  note.setAttribute('role', 'status');
  setTimeout(() => note.replaceChildren('There is nothing to check yet: your sandbox is not started. ', start), 50);
}

if (page && root) {
  void showPastProgress();
  root.querySelector('[data-start]')?.addEventListener('click', () => void ensureWorkspace(true));
  if (sessionStorage.getItem('dockyard:workspace')) void ensureWorkspace();

  document.addEventListener('click', (e) => {
    const target = e.target as HTMLElement;
    const run = target.closest<HTMLElement>('[data-run]');
    if (run) {
      showWorkspaceTab();
      void ensureWorkspace().then((w) => w.run(run.dataset.run!));
      return;
    }
    const check = target.closest<HTMLElement>('[data-check-now]');
    if (check && !workspace) return notStarted(check);
    const skip = target.closest<HTMLAnchorElement>('[data-skip-sandbox]');
    if (skip) {
      // To the sandbox: its Start button, or the terminal once it runs (on a phone, its tab first).
      e.preventDefault();
      showWorkspaceTab();
      if (workspace) void workspace.then((w) => w.focus());
      else root.querySelector<HTMLElement>('[data-start]')?.focus();
      return;
    }
    const copy = target.closest<HTMLElement>('[data-copy]');
    if (copy) {
      const code = copy.parentElement?.querySelector('code')?.textContent ?? '';
      void navigator.clipboard?.writeText(code).then(() => {
        copy.textContent = 'Copied';
        setTimeout(() => (copy.textContent = 'Copy'), 1500);
      });
    }
    const tab = target.closest<HTMLElement>('[data-tab-button]');
    if (tab) {
      page.dataset.tab = tab.dataset.tabButton!;
      for (const t of document.querySelectorAll('[data-tab-button]'))
        t.setAttribute('aria-selected', String(t === tab));
    }
  });

  // Plain code blocks get a Copy button; runnable ones have their Run button already.
  for (const pre of document.querySelectorAll<HTMLElement>('article pre')) {
    if (pre.closest('.run, .diagram')) continue;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'small-button copy-button';
    button.dataset.copy = '';
    button.textContent = 'Copy';
    pre.classList.add('copyable');
    pre.append(button);
  }

  for (const quiz of document.querySelectorAll<HTMLFormElement>('[data-quiz]')) {
    quiz.addEventListener('submit', (e) => {
      e.preventDefault();
      const picked = new FormData(quiz).values().next().value;
      const feedback = quiz.querySelector<HTMLElement>('.quiz-feedback')!;
      if (picked === undefined) {
        feedback.textContent = 'Pick an answer first.';
        delete feedback.dataset.correct;
        return;
      }
      const right = String(picked) === quiz.dataset.answer;
      const why = quiz.querySelector<HTMLInputElement>(`input[value="${String(picked)}"]`)?.dataset.why ?? '';
      feedback.dataset.correct = String(right);
      feedback.textContent = `${right ? 'Right.' : 'Not quite.'} ${why}`;
    });
  }

  // The split between the lesson and the workspace: drag it, or focus it and use the arrow keys.
  const splitter = document.querySelector<HTMLElement>('[data-splitter]');
  if (splitter) {
    const set = (pct: number) => {
      const v = Math.min(75, Math.max(25, pct));
      page.style.setProperty('--split', `${v}%`);
      splitter.setAttribute('aria-valuenow', String(Math.round(v)));
      localStorage.setItem('dockyard:split', String(v));
    };
    const saved = Number(localStorage.getItem('dockyard:split'));
    if (saved) set(saved);
    splitter.addEventListener('pointerdown', (e) => {
      splitter.setPointerCapture(e.pointerId);
      const move = (ev: PointerEvent) =>
        set(((ev.clientX - page.getBoundingClientRect().left) / page.clientWidth) * 100);
      const up = () => (
        splitter.removeEventListener('pointermove', move),
        splitter.removeEventListener('pointerup', up)
      );
      splitter.addEventListener('pointermove', move);
      splitter.addEventListener('pointerup', up);
    });
    splitter.addEventListener('keydown', (e) => {
      const now = Number(splitter.getAttribute('aria-valuenow'));
      if (e.key === 'ArrowLeft') set(now - 5);
      if (e.key === 'ArrowRight') set(now + 5);
    });
  }
}
