// The terminals of every session, kept across WebSocket reconnects and ended with their session.
import type { SandboxDriver } from '../drivers/driver.ts';
import { Terminal, type Watcher } from './terminal.ts';

/** Most terminals one session may have open. */
export const MAX_TERMINALS = 8;
/** A terminal nobody has shown for this long is closed. */
export const DETACHED_TERMINAL_TTL_MS = 10 * 60_000;

export class TerminalRegistry {
  readonly #driver: SandboxDriver;
  readonly #bySession = new Map<string, Map<string, Terminal>>();
  readonly #timers = new Map<Terminal, NodeJS.Timeout>();
  /** Read-only viewers of a session's terminals, with the stop function for each terminal they see. */
  readonly #watchers = new Map<string, Map<Watcher, (() => void)[]>>();
  readonly #detachedTtlMs: number;

  constructor(driver: SandboxDriver, detachedTtlMs = DETACHED_TERMINAL_TTL_MS) {
    this.#driver = driver;
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
   * Opens a shell in a sandbox of the session (one of its nodes) under the client's terminal id.
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
    const { cols, rows } = size;
    const t = new Terminal(term, await this.#driver.openTerminal(sandboxId, size), { cols, rows });
    terms.set(term, t);
    for (const [sink, stops] of this.#watchers.get(sessionId) ?? []) stops.push(t.watch(sink));
    t.onExit(() => {
      if (terms.get(term) === t) terms.delete(term);
      this.#clearTimer(t);
    });
    return t;
  }

  /** Shows every terminal of a session, open now or later, read-only to `sink`; returns the stop function. */
  watch(sessionId: string, sink: Watcher): () => void {
    let sinks = this.#watchers.get(sessionId);
    if (!sinks) this.#watchers.set(sessionId, (sinks = new Map()));
    const stops = [...(this.#bySession.get(sessionId)?.values() ?? [])]
      .filter((t) => !t.exited)
      .map((t) => t.watch(sink));
    sinks.set(sink, stops);
    return () => {
      for (const stop of sinks.get(sink) ?? []) stop();
      sinks.delete(sink);
      if (sinks.size === 0 && this.#watchers.get(sessionId) === sinks) this.#watchers.delete(sessionId);
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

  closeAll(): void {
    for (const id of [...this.#bySession.keys()]) this.closeSession(id);
  }

  #clearTimer(t: Terminal): void {
    clearTimeout(this.#timers.get(t));
    this.#timers.delete(t);
  }
}
