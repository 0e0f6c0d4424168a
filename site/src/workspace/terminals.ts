// Terminal tabs: one xterm.js per terminal id, sized to its panel, acknowledging what it rendered
// (the server's flow control), escapable by keyboard (Esc then Tab). Tabs open with +, close with
// their × (or Delete) or when their shell exits, and a new one takes the focus. A terminal runs on
// one node of the session (its id says which: term-ids.ts); tabs name the node once there are several.
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { FIRST_NODE, nodeOf, numberOf, termId, termLabel } from './term-ids.ts';
import { atSandboxPrompt, isTerminalReport } from './terminal-text.ts';

export interface TermIo {
  input(term: string, data: string): void;
  resize(term: string, cols: number, rows: number): void;
  ack(term: string, chars: number): void;
  open(term: string, cols: number, rows: number, node: string): void;
  close(term: string): void;
}

interface Tab {
  id: string;
  /** The node its shell runs on. */
  node: string;
  /** Its label's text, renamed when nodes come or go. */
  text: Text;
  term: Terminal;
  fit: FitAddon;
  el: HTMLElement;
  button: HTMLButtonElement;
  /** The server has opened (or reattached) its shell, and a new shell has shown its prompt. */
  ready: boolean;
  /** Keystrokes and Run commands waiting for `ready`. */
  pending: string;
  /** Replayed output being written: the terminal's answers to it are not sent. */
  replaying: number;
  /** Gives up waiting for a new shell's prompt. */
  promptTimer?: number;
}

/** The most terminals a sandbox may have open (the server's MAX_TERMINALS). */
export const MAX_TERMS = 8;
const STORE = 'dockyard:terms';
/** How long keystrokes wait for a new shell's prompt before they are sent anyway. */
const PROMPT_WAIT_MS = 5000;

export class Terminals {
  readonly #tabs = new Map<string, Tab>();
  /** The sandbox ended: keystrokes go nowhere until Start again. */
  #ended = false;
  readonly #panel: HTMLElement;
  readonly #bar: HTMLElement;
  readonly #add: HTMLButtonElement;
  readonly #note: HTMLElement;
  readonly #empty: HTMLElement;
  readonly #io: TermIo;
  #active = '';
  /** Ids are never reused in a page: a late exit of a closed shell cannot close a new tab. By node. */
  readonly #lastNumber = new Map<string, number>();
  /** The session has several nodes (or is the playground's): tabs say which node they are on. */
  #named = false;
  readonly #resizeObserver: ResizeObserver;

  /** `root` holds [data-terms], [data-tabs], [data-add-term], [data-term-note] and [data-no-terms]. */
  constructor(root: HTMLElement, io: TermIo) {
    const $ = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
    this.#panel = $('[data-terms]');
    this.#bar = $('[data-tabs]');
    this.#add = $<HTMLButtonElement>('[data-add-term]');
    this.#note = $('[data-term-note]');
    this.#empty = $('[data-no-terms]');
    this.#io = io;
    this.#resizeObserver = new ResizeObserver(() => this.#fitActive());
    this.#resizeObserver.observe(this.#panel);
    this.#add.addEventListener('click', () => this.openNew());
    this.#empty.querySelector('button')?.addEventListener('click', () => this.openNew());
    this.#bar.addEventListener('keydown', (e) => this.#tabKeys(e));
  }

  /** Terminal ids to (re)open: those of this browser tab before a reload, or one new one. */
  restore(): string[] {
    const saved = JSON.parse(sessionStorage.getItem(STORE) ?? '[]') as string[];
    const ids = saved.length ? saved : ['t1'];
    for (const id of ids) if (!this.#tabs.has(id)) this.#create(id);
    this.select(this.#active || ids[0]!);
    this.#save();
    return ids;
  }

  /**
   * Opens one more terminal (on `node`, else on the active one's node) and puts the focus in it;
   * past the limit, says why not. Its id, when it opened.
   */
  openNew(node = nodeOf(this.#active || 't1'), focus = true): string | undefined {
    if (this.#tabs.size >= MAX_TERMS) {
      this.say(`${MAX_TERMS} terminals are open, the most a sandbox can have. Close one (its ×) to open another.`);
      return undefined;
    }
    const id = termId(node, (this.#lastNumber.get(node) ?? 0) + 1);
    this.#create(id);
    this.select(id);
    this.#openOnServer(id);
    this.#save();
    if (focus) this.focus();
    return id;
  }

  /** Whether some tab runs on that node. */
  hasNode(node: string): boolean {
    return [...this.#tabs.values()].some((t) => t.node === node);
  }

  /** Shows a terminal on that node: the active one if it is there, else its first, else a new one. */
  showNode(node: string): boolean {
    if (this.#tabs.get(this.#active)?.node === node) return true;
    const first = [...this.#tabs.values()].find((t) => t.node === node);
    if (first) this.select(first.id);
    return Boolean(first ?? this.openNew(node, false));
  }

  /** Tabs name their node (several nodes), or not (one sandbox). */
  nameNodes(named: boolean): void {
    if (named === this.#named) return;
    this.#named = named;
    for (const t of this.#tabs.values()) this.#label(t);
  }

  /** The session's nodes now: tabs of nodes that are gone close, their shells gone with them. */
  keepNodes(nodes: readonly string[]): void {
    for (const t of [...this.#tabs.values()]) {
      if (nodes.includes(t.node)) continue;
      this.#io.close(t.id);
      this.#dispose(t);
    }
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

  /** The active terminal's line up to the cursor: what prompt, if any, a command would be typed at. */
  cursorLine(): string {
    const t = this.#tabs.get(this.#active);
    return t ? this.#lineOf(t) : '';
  }

  /** Output from the server; acknowledged once xterm has rendered it. */
  output(id: string, data: string, replay = false): void {
    const t = this.#tabs.get(id);
    if (!t) return this.#io.ack(id, data.length);
    if (replay) t.replaying++;
    t.term.write(data, () => {
      if (replay) t.replaying--;
      this.#io.ack(id, data.length);
      if (!t.ready && t.promptTimer !== undefined && atSandboxPrompt(this.#lineOf(t))) this.#ready(t);
    });
  }

  /** The server opened a shell: a reattached one replays its recent output onto a clean screen. */
  opened(id: string, reattached: boolean): void {
    const t = this.#tabs.get(id);
    if (!t) return;
    clearTimeout(t.promptTimer);
    if (reattached) {
      t.term.reset();
      this.#ready(t);
    } else {
      // Input sent before the shell is up would be echoed once by the TTY and again after the prompt.
      t.promptTimer = window.setTimeout(() => this.#ready(t), PROMPT_WAIT_MS);
    }
    this.#fitActive();
  }

  /** The connection dropped: keystrokes wait until each shell is back. */
  disconnected(): void {
    for (const t of this.#tabs.values()) {
      t.ready = false;
      clearTimeout(t.promptTimer);
      t.promptTimer = undefined;
    }
  }

  /** Types into the active terminal, as the learner would (Run buttons); opens one if none is. */
  type(data: string): void {
    if (!this.#tabs.size) this.openNew();
    const t = this.#tabs.get(this.#active);
    if (t) this.#send(t, data);
  }

  /** A shell ended (`exit`, Ctrl-D): its tab closes, as the welcome text says. */
  exited(id: string): void {
    const t = this.#tabs.get(id);
    if (!t) return;
    this.#dispose(t, true);
    this.say(`${this.#labelOf(id)} closed: its shell ended.`);
  }

  /** The sandbox is gone: each terminal says so once, and takes no more keystrokes until a fresh one. */
  sandboxEnded(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const t of this.#tabs.values()) {
      t.term.write('\r\n\x1b[2m[your sandbox has ended: press Start again for a fresh one]\x1b[0m\r\n');
    }
  }

  /** Everything on screen is gone (a new sandbox): clear the tabs' screens. */
  clearAll(): void {
    this.#ended = false;
    // What was said of the old sandbox's terminals is not news about the new one's.
    this.say('');
    for (const t of this.#tabs.values()) t.term.reset();
    if (!this.#tabs.size) this.restore();
  }

  dispose(): void {
    this.#resizeObserver.disconnect();
    for (const t of this.#tabs.values()) t.term.dispose();
  }

  #ready(t: Tab): void {
    clearTimeout(t.promptTimer);
    t.promptTimer = undefined;
    t.ready = true;
    if (t.pending) this.#io.input(t.id, t.pending);
    t.pending = '';
  }

  #lineOf(t: Tab): string {
    const b = t.term.buffer.active;
    return b.getLine(b.baseY + b.cursorY)?.translateToString(true, 0, b.cursorX) ?? '';
  }

  #send(t: Tab, data: string): void {
    if (t.ready) this.#io.input(t.id, data);
    else t.pending += data;
  }

  #openOnServer(id: string): void {
    const t = this.#tabs.get(id);
    if (t) this.#io.open(id, t.term.cols, t.term.rows, t.node);
  }

  #save(): void {
    sessionStorage.setItem(STORE, JSON.stringify([...this.#tabs.keys()]));
  }

  /** A short note under the tabs (role=status): a tab closed, or why none can open. */
  say(text: string): void {
    this.#note.textContent = text;
  }

  #renderCount(): void {
    const full = this.#tabs.size >= MAX_TERMS;
    // Not disabled: pressing it says why no more open.
    this.#add.toggleAttribute('data-full', full);
    this.#add.title = full ? `At most ${MAX_TERMS} terminals` : 'Open another terminal';
    this.#empty.hidden = this.#tabs.size > 0;
    if (!full && this.#note.textContent?.startsWith(`${MAX_TERMS} terminals`)) this.say('');
  }

  #tabKeys(e: KeyboardEvent): void {
    const ids = [...this.#tabs.keys()];
    const at = ids.findIndex((id) => this.#tabs.get(id)!.button === e.target);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: ids.length - 1 }[e.key];
    if (e.key === 'Delete') this.#close(ids[at]!);
    else if (to !== undefined) {
      const id = ids[(to + ids.length) % ids.length]!;
      this.select(id);
      this.#tabs.get(id)!.button.focus();
    } else return;
    e.preventDefault();
  }

  #labelOf(id: string): string {
    return termLabel(id, this.#named);
  }

  /** Names the tab, its close mark and its terminal after its number (and node, when named). */
  #label(t: Tab): void {
    const label = this.#labelOf(t.id);
    t.text.data = label;
    t.button.title = `${label} (Delete closes it)`;
    t.button.querySelector<HTMLElement>('.ws-close')!.title = `Close ${label}`;
    t.term.textarea?.setAttribute(
      'aria-label',
      `${label}: type commands for ${t.node === FIRST_NODE && !this.#named ? 'your sandbox' : t.node}`,
    );
  }

  #create(id: string): void {
    const node = nodeOf(id);
    this.#lastNumber.set(node, Math.max(this.#lastNumber.get(node) ?? 0, numberOf(id)));
    const el = document.createElement('div');
    el.className = 'term';
    el.id = `term-${id}`;
    el.setAttribute('role', 'tabpanel');
    this.#panel.append(el);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'ws-tab';
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-controls', el.id);
    button.setAttribute('aria-keyshortcuts', 'Delete');
    button.dataset.node = node;
    const close = document.createElement('span');
    close.className = 'ws-close';
    close.setAttribute('aria-hidden', 'true');
    close.textContent = '×';
    const text = document.createTextNode('');
    button.append(text, close);
    button.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('.ws-close')) return this.#close(id);
      this.select(id);
      this.focus();
    });
    button.addEventListener('auxclick', (e) => e.button === 1 && this.#close(id));
    this.#bar.append(button);
    el.setAttribute('aria-labelledby', (button.id = `tab-${id}`));

    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      screenReaderMode: false,
      theme: { background: '#0d1117' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon());
    term.open(el);
    const tab: Tab = { id, node, text, term, fit, el, button, ready: false, pending: '', replaying: 0 };
    this.#label(tab);
    this.#tabs.set(id, tab);
    this.#renderCount();

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
      // A replay holds old queries (BusyBox asks where the cursor is): their answers would be typed into bash.
      if (tab.replaying && isTerminalReport(data)) return;
      this.#send(tab, data);
    });
    term.onResize(({ cols, rows }) => this.#io.resize(id, cols, rows));
  }

  /** The learner closes a tab: its shell ends on the server. */
  #close(id: string): void {
    const t = this.#tabs.get(id);
    if (!t) return;
    this.#io.close(id);
    this.#dispose(t);
  }

  /** Removes a tab; the focus, if it was there, goes to the next tab (its terminal, after an `exit`). */
  #dispose(t: Tab, toTerminal = false): void {
    const hadFocus = t.el.contains(document.activeElement) || t.button === document.activeElement;
    clearTimeout(t.promptTimer);
    t.term.dispose();
    t.el.remove();
    t.button.remove();
    this.#tabs.delete(t.id);
    this.#save();
    this.#renderCount();
    const next = [...this.#tabs.keys()].at(-1);
    if (this.#active === t.id && next) this.select(next);
    if (!hadFocus) return;
    if (next && toTerminal) this.focus();
    else if (next) this.#tabs.get(next)!.button.focus();
    else this.#empty.querySelector('button')?.focus();
  }

  #fitActive(): void {
    const t = this.#tabs.get(this.#active);
    if (t && !t.el.hidden && t.el.clientWidth > 0) t.fit.fit();
  }
}
