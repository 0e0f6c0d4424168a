// Something read from a session's engine (its published ports, its map) and kept live for whoever
// watches: read when the first listener comes, again after each relevant engine event (debounced),
// and pushed only when it changed. One reader per session however many listeners.
import type { EngineEvent, EngineEvents } from './engine-events.ts';

type Listener<T> = (value: T) => void;

/** A failed read is tried again after 1 s, 2 s, … up to this many times in a row. */
const RETRIES = 5;
const RETRY_MS = 1000;

interface Watched<T> {
  listeners: Set<Listener<T>>;
  /** The last value pushed, as JSON: a read that finds the same is not pushed. */
  last?: string;
  timer?: NodeJS.Timeout;
  /** Reads started; a slow older read finishing after a newer one is dropped. */
  reads: number;
  /** Reads that failed in a row since the last one that worked. */
  failures: number;
  unfollow: () => void;
}

export interface LiveViewOptions<T> {
  events: EngineEvents;
  /** Reads the current value of a session. */
  read: (sessionId: string) => Promise<T>;
  /** Whether an event can change the value. */
  relevant: (e: EngineEvent) => boolean;
  debounceMs: number;
}

export class LiveView<T> {
  readonly #o: LiveViewOptions<T>;
  readonly #watched = new Map<string, Watched<T>>();

  constructor(options: LiveViewOptions<T>) {
    this.#o = options;
  }

  /** Calls `listener` with the value now and on every change; returns the unsubscribe function. */
  subscribe(sessionId: string, listener: Listener<T>): () => void {
    let w = this.#watched.get(sessionId);
    if (!w) {
      const created: Watched<T> = { listeners: new Set(), reads: 0, failures: 0, unfollow: () => undefined };
      created.unfollow = this.#o.events.subscribe(sessionId, (e) => {
        if (e === 'reconnected' || this.#o.relevant(e)) this.#soon(sessionId, created);
      });
      this.#watched.set(sessionId, (w = created));
      // Read now too: the event stream may take a while to (re)start.
      this.#soon(sessionId, created);
    } else if (w.last !== undefined) listener(JSON.parse(w.last) as T);
    w.listeners.add(listener);
    const watched = w;
    return () => {
      watched.listeners.delete(listener);
      if (watched.listeners.size === 0) {
        clearTimeout(watched.timer);
        watched.unfollow();
        this.#watched.delete(sessionId);
      }
    };
  }

  #soon(sessionId: string, w: Watched<T>, delayMs = this.#o.debounceMs): void {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      void this.#refresh(sessionId, w).then(
        () => (w.failures = 0),
        // A read that fails (a busy or restarting engine, a sandbox being replaced) pushes nothing,
        // and is tried again a little later: the event that called for it may be the last for long.
        () => {
          if (this.#watched.get(sessionId) !== w || ++w.failures > RETRIES) return;
          this.#soon(sessionId, w, RETRY_MS * w.failures);
        },
      );
    }, delayMs);
  }

  async #refresh(sessionId: string, w: Watched<T>): Promise<void> {
    const read = ++w.reads;
    const value = await this.#o.read(sessionId);
    const json = JSON.stringify(value);
    if (this.#watched.get(sessionId) !== w || read !== w.reads || json === w.last) return;
    w.last = json;
    for (const l of w.listeners) l(value);
  }
}
