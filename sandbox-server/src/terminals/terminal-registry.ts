// The terminals this server shows, by session: kept across WebSocket reconnects, hung up when their
// session ends, and let go (left running in the sandbox) when this server stops. Watching reads a
// session's terminals from the sandboxes themselves, so an instructor sees a learner's terminals
// whichever server shows them.
import { StringDecoder } from 'node:string_decoder';
import type { SandboxDriver, TerminalEvent, TerminalStream } from '../drivers/driver.ts';
import { Terminal } from './terminal.ts';

/** Most terminals one session may have open. */
export const MAX_TERMINALS = 8;
/** A terminal nobody has shown for this long is closed. */
export const DETACHED_TERMINAL_TTL_MS = 10 * 60_000;
/** How often a watch looks for terminals opened since (by any server). */
export const WATCH_LOOK_MS = 2_000;

/** What a read-only viewer sees of a terminal: its output, and its size (the learner's window). */
export type WatchMessage = { term: string } & (
  { type: 'output'; data: string } | { type: 'size'; cols: number; rows: number }
);
export type Watcher = (msg: WatchMessage) => void;

export class TerminalRegistry {
  readonly #driver: SandboxDriver;
  /** The sandboxes (nodes) of a session, where its terminals live. */
  readonly #sandboxesOf: (sessionId: string) => string[];
  readonly #bySession = new Map<string, Map<string, Terminal>>();
  readonly #timers = new Map<Terminal, NodeJS.Timeout>();
  /** Per watched session, how to make each of its watches look for new terminals now. */
  readonly #looks = new Map<string, Set<() => void>>();
  readonly #detachedTtlMs: number;

  constructor(
    driver: SandboxDriver,
    sandboxesOf: (sessionId: string) => string[],
    detachedTtlMs = DETACHED_TERMINAL_TTL_MS,
  ) {
    this.#driver = driver;
    this.#sandboxesOf = sandboxesOf;
    this.#detachedTtlMs = detachedTtlMs;
  }

  get(sessionId: string, term: string): Terminal | undefined {
    const t = this.#bySession.get(sessionId)?.get(term);
    return t && !t.exited ? t : undefined;
  }

  count(): number {
    let n = 0;
    for (const m of this.#bySession.values()) n += m.size;
    return n;
  }

  /**
   * Shows terminal `term` of a sandbox of the session (one of its nodes): the shell running under
   * that name, with its scrollback, or a new one.
   */
  async open(
    sessionId: string,
    sandboxId: string,
    term: string,
    size: { cols: number; rows: number },
  ): Promise<Terminal> {
    let terms = this.#bySession.get(sessionId);
    if (!terms) this.#bySession.set(sessionId, (terms = new Map()));
    if (terms.size >= MAX_TERMINALS) throw new Error(`A sandbox can have at most ${MAX_TERMINALS} terminals open.`);
    const t = new Terminal(term, await this.#driver.openTerminal(sandboxId, term, size));
    terms.set(term, t);
    for (const look of this.#looks.get(sessionId) ?? []) look();
    t.onEnd(() => {
      if (terms.get(term) === t) terms.delete(term);
      this.#clearTimer(t);
    });
    return t;
  }

  /**
   * Shows every terminal of a session, open now or later (on whichever server), read-only to
   * `sink`: each one's size, scrollback, then output. Returns the stop function.
   */
  watch(sessionId: string, sink: Watcher): () => void {
    const streams = new Map<string, TerminalStream>();
    let stopped = false;
    let looking: Promise<void> | undefined;
    let again = false;
    const lookOnce = async () => {
      for (const sandboxId of this.#sandboxesOf(sessionId)) {
        const names = await this.#driver.terminals(sandboxId).catch(() => [] as string[]);
        for (const name of names) {
          const key = `${sandboxId}/${name}`;
          if (stopped || streams.has(key)) continue;
          const tty = await this.#driver.watchTerminal(sandboxId, name).catch(() => undefined);
          if (!tty) continue;
          if (stopped) {
            tty.stream.destroy();
            continue;
          }
          streams.set(key, tty);
          const decoder = new StringDecoder('utf8');
          tty.stream.on('error', () => undefined);
          tty.stream.on('data', (e: TerminalEvent) => {
            if (e.type === 'size') sink({ type: 'size', term: name, cols: e.cols, rows: e.rows });
            else sink({ type: 'output', term: name, data: decoder.write(e.data) });
          });
          void tty.ended.then(() => streams.get(key) === tty && streams.delete(key));
        }
      }
    };
    const look = () => {
      if (looking) return void (again = true);
      looking = lookOnce().finally(() => {
        looking = undefined;
        if (again && !stopped) {
          again = false;
          look();
        }
      });
    };
    let looks = this.#looks.get(sessionId);
    if (!looks) this.#looks.set(sessionId, (looks = new Set()));
    looks.add(look);
    const timer = setInterval(look, WATCH_LOOK_MS);
    timer.unref();
    look();
    return () => {
      stopped = true;
      clearInterval(timer);
      looks.delete(look);
      if (looks.size === 0 && this.#looks.get(sessionId) === looks) this.#looks.delete(sessionId);
      for (const tty of streams.values()) tty.stream.destroy();
      streams.clear();
    };
  }

  /** The client stopped showing `t`: close it unless it is shown again in time. */
  scheduleClose(t: Terminal): void {
    this.#clearTimer(t);
    const timer = setTimeout(() => !t.attached && t.close(), this.#detachedTtlMs);
    timer.unref();
    this.#timers.set(t, timer);
  }

  cancelClose(t: Terminal): void {
    this.#clearTimer(t);
  }

  /** Ends every terminal of a session (it expired, was ended or reset). */
  closeSession(sessionId: string): void {
    for (const t of this.#bySession.get(sessionId)?.values() ?? []) {
      this.#clearTimer(t);
      t.close();
    }
    this.#bySession.delete(sessionId);
  }

  /** This server stops: lets go of every terminal, whose shells go on for the next server to show. */
  releaseAll(): void {
    for (const terms of this.#bySession.values()) {
      for (const t of terms.values()) {
        this.#clearTimer(t);
        t.release();
      }
    }
    this.#bySession.clear();
  }

  #clearTimer(t: Terminal): void {
    clearTimeout(this.#timers.get(t));
    this.#timers.delete(t);
  }
}
