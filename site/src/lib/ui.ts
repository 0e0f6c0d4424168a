// Small DOM helpers for the site's islands: elements built safely (text is never parsed as HTML),
// an API failure's title and hint shown where the person is looking, buttons busy while they work.
import { ApiFailure, type ApiErrorBody } from '../workspace/api.ts';

type Attrs = Record<string, string | number | boolean | undefined | null>;
type Child = Node | string | number | false | null | undefined;

/** An element with attributes (false and null are left out, true is an empty attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== false && v != null) el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== false && c != null) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

/** The catalogue entry of a failure, or a plain one for anything unexpected. */
export function failure(e: unknown): ApiErrorBody {
  if (e instanceof ApiFailure) return e.body;
  return { code: 'UNEXPECTED', title: 'Something went wrong', hint: 'Try again in a moment.' };
}

/** Puts a problem in an alert element (role=alert): its title, then its hint. No title clears it (and its form's field messages). */
export function showProblem(el: HTMLElement, title?: string, hint = ''): void {
  el.replaceChildren();
  if (title) el.append(h('strong', {}, `${title}.`), hint ? ` ${hint}` : '');
  else clearFieldErrors(el.closest('form'));
}

/**
 * Shows a failure in `el`. In a form, the server's message for each field goes beside that field
 * (aria-invalid, and read out with it), and the first such field gets the focus.
 */
export function showFailure(el: HTMLElement, e: unknown): void {
  const body = failure(e);
  const form = el.closest('form');
  clearFieldErrors(form);
  const unplaced: string[] = [];
  const placed: HTMLElement[] = [];
  for (const [name, message] of Object.entries(body.fields ?? {})) {
    const input = form?.querySelector<HTMLElement>(`[name="${CSS.escape(name)}"]`);
    if (!input) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    const note = h('p', { class: 'field-error', id: `${input.id || name}-error`, 'data-field-error': name }, message);
    input.insertAdjacentElement('afterend', note);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', `${note.id} ${input.getAttribute('aria-describedby') ?? ''}`.trim());
    // The message goes once the person changes the field.
    input.addEventListener('input', () => clearFieldError(input), { once: true });
    placed.push(input);
  }
  if (placed.length === 0) {
    return showProblem(el, body.title, body.fields ? `${unplaced.join(' ')} ${body.hint}` : body.hint);
  }
  const one = placed.length === 1;
  showProblem(
    el,
    one ? 'A field needs a change' : 'Some fields need a change',
    [one ? 'See the message beside it.' : 'See the messages beside them.', ...unplaced].join(' '),
  );
  placed[0]!.focus();
}

function clearFieldError(input: HTMLElement): void {
  const note = input.parentElement?.querySelector<HTMLElement>(
    `[data-field-error="${CSS.escape(input.getAttribute('name') ?? '')}"]`,
  );
  if (!note) return;
  input.removeAttribute('aria-invalid');
  const rest = (input.getAttribute('aria-describedby') ?? '').replace(note.id, '').trim();
  if (rest) input.setAttribute('aria-describedby', rest);
  else input.removeAttribute('aria-describedby');
  note.remove();
}

function clearFieldErrors(form: HTMLFormElement | null): void {
  for (const input of form?.querySelectorAll<HTMLElement>('[aria-invalid="true"]') ?? []) clearFieldError(input);
}

/** Runs `work` with the button disabled (no double submits), and enables it again whatever happens. */
export async function whileBusy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Copies text, and says so on the button for a moment. */
export function copyButton(text: () => string, label = 'Copy link'): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'button secondary small' }, label);
  button.addEventListener('click', () => {
    void navigator.clipboard?.writeText(text()).then(() => {
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = label), 1500);
    });
  });
  return button;
}
