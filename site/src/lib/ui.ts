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

/** Puts a problem in an alert element (role=alert): its title, then its hint. No title clears it. */
export function showProblem(el: HTMLElement, title?: string, hint = ''): void {
  el.replaceChildren();
  if (title) el.append(h('strong', {}, `${title}.`), hint ? ` ${hint}` : '');
}

export function showFailure(el: HTMLElement, e: unknown): void {
  const body = failure(e);
  showProblem(el, body.title, body.hint);
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
