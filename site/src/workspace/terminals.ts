// Terminal tabs: one xterm.js per terminal id, sized to its panel, acknowledging what it rendered
// (the server's flow control), escapable by keyboard (Esc then Tab).
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

export interface TermIo {
  input(term: string, data: string): void;
  resize(term: string, cols: number, rows: number): void;
  ack(term: string, chars: number): void;
  open(term: string, cols: number, rows: number): void;
  close(term: string): void;
}

interface Tab {
  id: string;
  term: Terminal;
  fit: FitAddon;
  el: HTMLElement;
  button: HTMLButtonElement;
  exited: boolean;
  /** The server has opened (or reattached) its shell; until then keystrokes wait here. */
  ready: boolean;
  pending: string;
}

const MAX_TERMS = 8;
const STORE = 'dockyard:terms';

export class Terminals {
  readonly #tabs = new Map<string, Tab>();
  /** The sandbox ended: keystrokes go nowhere until Start again. */
  #ended = false;
  readonly #panel: HTMLElement;
  readonly #bar: HTMLElement;
  readonly #io: TermIo;
  #active = '';
  readonly #resizeObserver: ResizeObserver;

  constructor(panel: HTMLElement, bar: HTMLElement, addButton: HTMLButtonElement, io: TermIo) {
    this.#panel = panel;
    this.#bar = bar;
    this.#io = io;
    this.#resizeObserver = new ResizeObserver(() => this.#fitActive());
    this.#resizeObserver.observe(panel);
    addButton.addEventListener('click', () => {
      const id = this.#nextId();
      if (id) {
        this.#create(id);
        this.select(id);
        this.#openOnServer(id);
        this.#save();
      }
    });
  }

  /** Terminal ids to (re)open: those of this browser tab before a reload, or one new one. */
  restore(): string[] {
    const saved = JSON.parse(sessionStorage.getItem(STORE) ?? '[]') as string[];
    const ids = saved.length ? saved : ['t1'];
    for (const id of ids) if (!this.#tabs.has(id)) this.#create(id);
    this.select(this.#active || ids[0]!);
    return ids;
  }

  /** Asks the server for every tab's shell (after a (re)connect it reattaches them). */
  openAll(): void {
    for (const id of this.#tabs.keys()) this.#openOnServer(id);
  }

  get active(): string {
    return this.#active;
  }

  select(id: string): void {
    this.#active = id;
    for (const t of this.#tabs.values()) {
      const on = t.id === id;
      t.el.hidden = !on;
      t.button.setAttribute('aria-selected', String(on));
      t.button.tabIndex = on ? 0 : -1;
    }
    this.#fitActive();
  }

  focus(): void {
    this.#tabs.get(this.#active)?.term.focus();
  }

  /** Output from the server; acknowledged once xterm has rendered it. */
  output(id: string, data: string): void {
    const t = this.#tabs.get(id);
    if (!t) return this.#io.ack(id, data.length);
    t.term.write(data, () => this.#io.ack(id, data.length));
  }

  /** A reattached terminal replays its recent output: start from a clean screen. */
  opened(id: string, reattached: boolean): void {
    const t = this.#tabs.get(id);
    if (!t) return;
    t.exited = false;
    if (reattached) t.term.reset();
    t.ready = true;
    if (t.pending) this.#io.input(id, t.pending);
    t.pending = '';
    this.#fitActive();
  }

  /** The connection dropped: keystrokes wait until each shell is back. */
  disconnected(): void {
    for (const t of this.#tabs.values()) t.ready = false;
  }

  /** Types into the active terminal, as the learner would (Run buttons). */
  type(data: string): void {
    const t = this.#tabs.get(this.#active);
    if (t) this.#send(t, data);
  }

  #send(t: Tab, data: string): void {
    if (t.ready) this.#io.input(t.id, data);
    else t.pending += data;
  }

  exited(id: string, code: number): void {
    const t = this.#tabs.get(id);
    if (!t) return;
    t.exited = true;
    t.term.write(`\r\n\x1b[2m[the shell ended with code ${code}; press Enter for a new one]\x1b[0m\r\n`);
  }

  /** The sandbox is gone: each terminal says so once, and takes no more keystrokes until a fresh one. */
  sandboxEnded(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const t of this.#tabs.values()) {
      t.exited = false;
      t.term.write('\r\n\x1b[2m[your sandbox has ended: press Start again for a fresh one]\x1b[0m\r\n');
    }
  }

  /** Everything on screen is gone (a new sandbox): clear the tabs' screens. */
  clearAll(): void {
    this.#ended = false;
    for (const t of this.#tabs.values()) t.term.reset();
  }

  dispose(): void {
    this.#resizeObserver.disconnect();
    for (const t of this.#tabs.values()) t.term.dispose();
  }

  #openOnServer(id: string): void {
    const t = this.#tabs.get(id);
    if (t) this.#io.open(id, t.term.cols, t.term.rows);
  }

  #nextId(): string | undefined {
    if (this.#tabs.size >= MAX_TERMS) return undefined;
    for (let i = 1; i <= MAX_TERMS; i++) if (!this.#tabs.has(`t${i}`)) return `t${i}`;
    return undefined;
  }

  #save(): void {
    sessionStorage.setItem(STORE, JSON.stringify([...this.#tabs.keys()]));
  }

  #create(id: string): void {
    const el = document.createElement('div');
    el.className = 'term';
    el.id = `term-${id}`;
    el.setAttribute('role', 'tabpanel');
    this.#panel.append(el);
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-controls', el.id);
    button.textContent = `Terminal ${id.slice(1)}`;
    button.addEventListener('click', () => (this.select(id), this.focus()));
    button.addEventListener('auxclick', (e) => e.button === 1 && this.#remove(id));
    button.addEventListener('keydown', (e) => {
      if (e.key === 'Delete' && this.#tabs.size > 1) this.#remove(id);
    });
    this.#bar.append(button);
    el.setAttribute('aria-labelledby', (button.id = `tab-${id}`));

    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      screenReaderMode: false,
      theme: { background: '#0d1117' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon());
    term.open(el);
    term.textarea?.setAttribute('aria-label', `Terminal ${id.slice(1)}: type commands for your sandbox`);
    const tab: Tab = { id, term, fit, el, button, exited: false, ready: false, pending: '' };
    this.#tabs.set(id, tab);

    let escapeAt = 0;
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown') return true;
      if (e.key === 'Escape') escapeAt = Date.now();
      else if (e.key === 'Tab' && Date.now() - escapeAt < 1500) {
        // Esc then Tab leaves the terminal: the shell never sees this Tab.
        term.blur();
        (
          this.#bar.closest('[data-workspace]')?.querySelector('[data-ports] button, .ws-help') as HTMLElement | null
        )?.focus();
        return false;
      }
      // Copy with Ctrl+Shift+C, paste is the browser's own (Ctrl+Shift+V or Ctrl+V).
      if (e.ctrlKey && e.shiftKey && e.key.toLowerCase() === 'c' && term.hasSelection()) {
        void navigator.clipboard?.writeText(term.getSelection());
        return false;
      }
      return true;
    });
    term.onData((data) => {
      if (this.#ended) return;
      if (tab.exited && data === '\r') {
        tab.exited = false;
        tab.ready = false;
        term.reset();
        return this.#openOnServer(id);
      }
      this.#send(tab, data);
    });
    term.onResize(({ cols, rows }) => this.#io.resize(id, cols, rows));
  }

  #remove(id: string): void {
    const t = this.#tabs.get(id);
    if (!t || this.#tabs.size === 1) return;
    this.#io.close(id);
    t.term.dispose();
    t.el.remove();
    t.button.remove();
    this.#tabs.delete(id);
    this.#save();
    if (this.#active === id) this.select(this.#tabs.keys().next().value!);
  }

  #fitActive(): void {
    const t = this.#tabs.get(this.#active);
    if (t && !t.el.hidden && t.el.clientWidth > 0) t.fit.fit();
  }
}
