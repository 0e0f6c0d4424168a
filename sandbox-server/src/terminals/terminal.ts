// One shell in a sandbox as this server shows it. The shell itself is kept inside the sandbox
// (dockyard-tty), so it outlives the WebSocket that shows it (a reload reattaches here and replays
// recent output) and this server process too (another server attaches and gets the scrollback).
// Output is flow-controlled by the client's acks, so a flood (`cat /dev/urandom`) blocks the shell,
// not the server's memory.
import { StringDecoder } from 'node:string_decoder';
import type { TerminalEvent, TerminalStream } from '../drivers/driver.ts';
import { errorCatalogue } from '../errors.ts';
import { FLOW_HIGH_WATER, FLOW_LOW_WATER, type ServerMessage } from '../protocol/messages.ts';

/** Recent output kept for a reattach, in characters. */
export const SCROLLBACK_CHARS = 64 * 1024;

export type Sink = (msg: ServerMessage) => void;

/** How a terminal ended here: its shell's exit code, or another server (or tab) took it over. */
export type TerminalEnd = number | 'taken-over';

export class Terminal {
  readonly id: string;
  readonly #tty: TerminalStream;
  readonly #decoder = new StringDecoder('utf8');
  #scrollback = '';
  #sink: Sink | undefined;
  /** Characters sent to the attached client and not yet acknowledged. */
  #unacked = 0;
  /** Characters read while nobody was attached. */
  #unseen = 0;
  #paused = false;
  #end: TerminalEnd | undefined;
  /** Resize and input apply in the order they arrived: a command typed after a resize sees the new size. */
  #queue: Promise<void> = Promise.resolve();
  readonly #onEnd = new Set<(end: TerminalEnd) => void>();

  constructor(id: string, tty: TerminalStream) {
    this.id = id;
    this.#tty = tty;
    tty.stream.on(
      'data',
      (e: TerminalEvent) => e.type === 'output' && this.#output(this.#decoder.write(e.data), e.replay),
    );
    // Ending is also told by `ended`; an error here (a connection reset) must not be unhandled.
    tty.stream.on('error', () => undefined);
    void tty.ended.then((end) => {
      this.#end = end;
      if (end === 'taken-over') this.#sink?.({ type: 'error', term: id, code: 'TERMINAL_ELSEWHERE', ...elsewhere() });
      else this.#sink?.({ type: 'exit', term: id, code: end });
      for (const cb of this.#onEnd) cb(end);
    });
  }

  /** Whether the shell was running before this server showed it (another server, or this one before a restart). */
  get kept(): boolean {
    return this.#tty.kept;
  }

  get exited(): boolean {
    return this.#end !== undefined;
  }

  /** Shows this terminal on a client: replays the scrollback, then streams. Replaces any earlier client. */
  attach(sink: Sink): void {
    this.#sink = sink;
    this.#unacked = 0;
    this.#unseen = 0;
    if (this.#scrollback) this.#send(this.#scrollback, true);
    this.#flow();
  }

  /** The client is gone: keep the shell, buffer a little, then let it block. */
  detach(sink: Sink): void {
    if (this.#sink !== sink) return;
    this.#sink = undefined;
    this.#unacked = 0;
    this.#flow();
  }

  get attached(): boolean {
    return this.#sink !== undefined;
  }

  input(data: string): void {
    this.#queue = this.#queue.then(() => {
      if (!this.exited) this.#tty.stream.write(data);
    });
  }

  resize(cols: number, rows: number): Promise<void> {
    const done = this.#queue.then(() => this.#tty.resize(cols, rows));
    this.#queue = done.catch(() => undefined);
    return done;
  }

  ack(chars: number): void {
    this.#unacked = Math.max(0, this.#unacked - chars);
    this.#flow();
  }

  onEnd(cb: (end: TerminalEnd) => void): () => void {
    this.#onEnd.add(cb);
    return () => void this.#onEnd.delete(cb);
  }

  /** Ends the shell (hangs its terminal up), as closing its tab does. */
  close(): void {
    void this.#tty.hangUp().catch(() => undefined);
  }

  /** Lets go of the terminal and leaves its shell running, for another server (or this one, restarted). */
  release(): void {
    this.#tty.stream.end();
  }

  /** Bytes the server holds for this terminal: for tests and metrics. */
  bufferedChars(): number {
    return this.#scrollback.length + this.#unacked;
  }

  #output(text: string, replay = false): void {
    if (!text) return;
    this.#scrollback = (this.#scrollback + text).slice(-SCROLLBACK_CHARS);
    if (this.#sink) this.#send(text, replay);
    else this.#unseen += text.length;
    this.#flow();
  }

  #send(text: string, replay = false): void {
    this.#unacked += text.length;
    this.#sink?.({ type: 'output', term: this.id, data: text, ...(replay ? { replay } : {}) });
  }

  /** Pauses reading past the high-water mark (or a full scrollback with nobody watching). */
  #flow(): void {
    const over = this.#sink ? this.#unacked > FLOW_HIGH_WATER : this.#unseen >= SCROLLBACK_CHARS;
    const under = this.#sink ? this.#unacked < FLOW_LOW_WATER : false;
    if (over && !this.#paused) {
      this.#paused = true;
      this.#tty.stream.pause();
    } else if (under && this.#paused) {
      this.#paused = false;
      this.#tty.stream.resume();
    }
  }
}

const elsewhere = () => {
  const { title, hint } = errorCatalogue.TERMINAL_ELSEWHERE;
  return { title, hint };
};
