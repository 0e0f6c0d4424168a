// The notice above the terminals: something the learner must see before a command runs (they are
// inside a container; a file in the editor is not saved), with what they can do about it.
import { setText } from './checks.ts';

export type Action = [label: string, run: () => void];

export class Banner {
  readonly #el: HTMLElement;
  #kind = '';

  constructor(el: HTMLElement) {
    this.#el = el;
  }

  /** Shows `text` (with `code` spans) and its buttons; a Dismiss button is always last. */
  show(kind: string, text: string, actions: Action[] = []): void {
    this.#kind = kind;
    const p = document.createElement('p');
    setText(p, text);
    const buttons = [...actions, ['Dismiss', () => undefined] as Action].map(([label, run]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'small-button';
      b.textContent = label;
      b.addEventListener('click', () => (this.clear(kind), run()));
      return b;
    });
    this.#el.replaceChildren(p, ...buttons);
    this.#el.dataset.kind = kind;
    this.#el.hidden = false;
  }

  /** Hides the notice if it is of `kind` (or whatever it is, without one). */
  clear(kind?: string): void {
    if (kind && kind !== this.#kind) return;
    this.#kind = '';
    this.#el.hidden = true;
    this.#el.replaceChildren();
  }

  get kind(): string {
    return this.#kind;
  }
}
