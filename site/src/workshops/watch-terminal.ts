// Read-only terminals for the dashboard's Watch panel: one xterm per terminal of the learner,
// loaded only when an instructor first watches someone. Once the learner has a terminal on another
// node than the first (its id says so), every tab names its node.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { onOtherNode, termLabel } from '../workspace/term-ids.ts';

interface Tab {
  term: Terminal;
  fit: FitAddon;
  el: HTMLElement;
  button: HTMLButtonElement;
  /** The learner's size, once known: shown as they see it (the panel scrolls), not fitted. */
  fixed: boolean;
}

export class WatchTerminals {
  readonly #tabs = new Map<string, Tab>();
  readonly #panel: HTMLElement;
  readonly #bar: HTMLElement;
  readonly #resizeObserver: ResizeObserver;
  #active = '';
  /** Whose terminals these are, for the terminals' labels. */
  owner = '';

  constructor(panel: HTMLElement, bar: HTMLElement) {
    this.#panel = panel;
    this.#bar = bar;
    this.#resizeObserver = new ResizeObserver(() => this.#fitActive());
    this.#resizeObserver.observe(panel);
  }

  /** Output of one of the learner's terminals; the first of them is shown, the others a tab away. */
  write(id: string, data: string): void {
    (this.#tabs.get(id) ?? this.#create(id)).term.write(data);
  }

  /** The learner's terminal is this size: lines wrap where theirs do. */
  resize(id: string, cols: number, rows: number): void {
    const tab = this.#tabs.get(id) ?? this.#create(id);
    tab.fixed = true;
    tab.term.resize(cols, rows);
  }

  /** A new learner, or the same one after a reconnect (their recent output is replayed): start empty. */
  clear(): void {
    for (const t of this.#tabs.values()) {
      t.term.dispose();
      t.el.remove();
      t.button.remove();
    }
    this.#tabs.clear();
    this.#active = '';
    this.#bar.hidden = true;
  }

  dispose(): void {
    this.clear();
    this.#resizeObserver.disconnect();
  }

  /** Whether some terminal of the learner's runs on another node than the first. */
  #named(): boolean {
    return [...this.#tabs.keys()].some(onOtherNode);
  }

  #label(id: string, t: Tab): void {
    const text = termLabel(id, this.#named());
    t.button.textContent = text;
    t.term.textarea?.setAttribute('aria-label', `${this.owner}'s ${text}, read-only`);
  }

  #create(id: string): Tab {
    const el = document.createElement('div');
    el.className = 'watch-term';
    el.id = `watch-term-${id}`;
    el.setAttribute('role', 'tabpanel');
    this.#panel.append(el);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'small-button';
    button.id = `watch-tab-${id}`;
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-controls', el.id);
    button.addEventListener('click', () => this.#select(id));
    el.setAttribute('aria-labelledby', button.id);
    this.#bar.append(button);

    const term = new Terminal({
      disableStdin: true,
      cursorBlink: false,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 3000,
      theme: { background: '#0d1117' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    term.textarea?.setAttribute('readonly', '');
    const tab: Tab = { term, fit, el, button, fixed: false };
    this.#tabs.set(id, tab);
    // A first tab on another node renames the others (Terminal 1 becomes node1 · 1).
    if (onOtherNode(id)) for (const [tid, t] of this.#tabs) this.#label(tid, t);
    else this.#label(id, tab);
    this.#bar.hidden = this.#tabs.size < 2;
    if (!this.#active) this.#select(id);
    else el.hidden = true;
    return tab;
  }

  #select(id: string): void {
    this.#active = id;
    for (const [tid, t] of this.#tabs) {
      t.el.hidden = tid !== id;
      t.button.setAttribute('aria-selected', String(tid === id));
    }
    this.#fitActive();
  }

  #fitActive(): void {
    const t = this.#tabs.get(this.#active);
    if (t && !t.fixed && t.el.clientWidth > 0) t.fit.fit();
  }
}
