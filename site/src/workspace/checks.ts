// Shows a grade report in its <Exercise>: each check's status, message and hint, the score, and a
// celebration the first time everything passes.
import type { ServerMessage } from '@dockyard/sandbox-server/protocol';

type Report = Extract<ServerMessage, { type: 'grade' }>['report'];

const STATUS_TEXT = { passed: 'passed', failed: 'not yet', error: 'could not be checked' } as const;

/** Text with `code` spans shown as code; built from text nodes, so nothing in it is ever HTML. */
function setText(el: Element, text: string): void {
  el.replaceChildren(
    ...text.split('`').map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const code = document.createElement('code');
      code.textContent = part;
      return code;
    }),
  );
}

export function renderReport(el: HTMLElement, report: Report): void {
  for (const c of report.checks) {
    const li = el.querySelector<HTMLElement>(`[data-check="${CSS.escape(c.id)}"]`);
    if (!li) continue;
    li.dataset.status = c.status;
    li.querySelector('[data-status-text]')!.textContent = STATUS_TEXT[c.status];
    setText(li.querySelector('[data-message]')!, c.status === 'passed' ? '' : c.message);
    setText(li.querySelector('[data-hint]')!, c.status === 'failed' ? (c.hint ?? '') : '');
  }
  el.querySelector('[data-score]')!.textContent = `${report.score} / ${report.maxScore} points`;
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
