// Shows a grade report in its <Exercise>: each check's status, message and hint, the score, and a
// celebration the first time everything passes.
import type { ServerMessage } from '@dockyard/sandbox-server/protocol';

type Report = Extract<ServerMessage, { type: 'grade' }>['report'];

const STATUS_TEXT = {
  passed: 'passed',
  failed: 'not yet',
  error: 'could not be checked',
  pending: 'not checked yet',
} as const;

/** Text with `code` spans shown as code; built from text nodes, so nothing in it is ever HTML. */
export function setText(el: Element, text: string): void {
  el.replaceChildren(
    ...text.split('`').map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const code = document.createElement('code');
      code.textContent = part;
      return code;
    }),
  );
}

/**
 * Shows a report. Until the learner has `acted` in this sandbox (run a command, saved a file, asked
 * for a check), a check that does not pass yet is shown as still to do, not as a failure.
 */
export function renderReport(el: HTMLElement, report: Report, acted = true): void {
  for (const c of report.checks) {
    const li = el.querySelector<HTMLElement>(`[data-check="${CSS.escape(c.id)}"]`);
    if (!li) continue;
    const status = c.status === 'failed' && !acted ? 'pending' : c.status;
    li.dataset.status = status;
    li.querySelector('[data-status-text]')!.textContent = STATUS_TEXT[status];
    setText(li.querySelector('[data-message]')!, status === 'failed' || status === 'error' ? c.message : '');
    setText(li.querySelector('[data-hint]')!, status === 'failed' ? (c.hint ?? '') : '');
  }
  el.querySelector('[data-score]')!.textContent = `${report.score} / ${report.maxScore} points`;
  el.dataset.graded = '';
  const note = el.querySelector('[data-check-note]');
  if (note)
    note.textContent = report.incomplete
      ? 'Some checks could not run just now; they will try again.'
      : 'Checks run by themselves while your sandbox is open.';
  const banner = el.querySelector<HTMLElement>('[data-celebrate]')!;
  const wasPassed = el.dataset.passed === 'true';
  el.dataset.passed = String(report.passed);
  banner.hidden = !report.passed;
  if (report.passed && !wasPassed) {
    banner.classList.remove('pop');
    void banner.offsetWidth; // restart the animation
    banner.classList.add('pop');
  }
}
