// One shell in a sandbox, outliving the WebSocket that shows it: a reload reattaches and replays
// recent output. Output is flow-controlled by the client's acks, so a flood (`cat /dev/urandom`)
// blocks the shell, not the server's memory.
import { StringDecoder } from 'node:string_decoder';
import type { TerminalStream } from '../drivers/driver.ts';
import { FLOW_HIGH_WATER, FLOW_LOW_WATER, type ServerMessage } from '../protocol/messages.ts';

/** Recent output kept for a reattach, in characters. */
export const SCROLLBACK_CHARS = 64 * 1024;

export type Sink = (msg: ServerMessage) => void;

/** What a read-only viewer sees of a terminal: its output, and its size (the learner's window). */
export type WatchMessage = { term: string } & (
  { type: 'output'; data: string } | { type: 'size'; cols: number; rows: number }
);
export type Watcher = (msg: WatchMessage) => void;

export class Terminal {
  readonly id: string;
  readonly #tty: TerminalStream;
  readonly #decoder = new StringDecoder('utf8');
  #scrollback = '';
  #sink: Sink | undefined;
  /** Read-only viewers (an instructor): they see the output but neither type nor hold it back. */
  readonly #watchers = new Set<Watcher>();
  #size: { cols: number; rows: number };
  /** Characters sent to the attached client and not yet acknowledged. */
  #unacked = 0;
  /** Characters read while nobody was attached. */
  #unseen = 0;
  #paused = false;
  #exitCode: number | undefined;
  /** Resize and input apply in the order they arrived: a command typed after a resize sees the new size. */
  #queue: Promise<void> = Promise.resolve();
  readonly #onExit = new Set<(code: number) => void>();

  constructor(id: string, tty: TerminalStream, size = { cols: 80, rows: 24 }) {
    this.id = id;
    this.#tty = tty;
    this.#size = size;
    tty.stream.on('data', (chunk: Buffer) => this.#output(this.#decoder.write(chunk)));
    void tty.exited.then((code) => {
      this.#exitCode = code;
      this.#sink?.({ type: 'exit', term: id, code });
      for (const cb of this.#onExit) cb(code);
    });
  }

  get exited(): boolean {
    return this.#exitCode !== undefined;
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

  /** Shows the size and output read-only to `watcher` too, starting with the scrollback; returns the stop function. */
  watch(watcher: Watcher): () => void {
    watcher({ type: 'size', term: this.id, ...this.#size });
    if (this.#scrollback) watcher({ type: 'output', term: this.id, data: this.#scrollback });
    this.#watchers.add(watcher);
    return () => void this.#watchers.delete(watcher);
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
    const done = this.#queue.then(async () => {
      await this.#tty.resize(cols, rows);
      this.#size = { cols, rows };
      for (const w of this.#watchers) w({ type: 'size', term: this.id, cols, rows });
    });
    this.#queue = done.catch(() => undefined);
    return done;
  }

  ack(chars: number): void {
    this.#unacked = Math.max(0, this.#unacked - chars);
    this.#flow();
  }

  onExit(cb: (code: number) => void): () => void {
    this.#onExit.add(cb);
    return () => void this.#onExit.delete(cb);
  }

  /** Ends the shell (closing its TTY hangs it up). */
  close(): void {
    this.#tty.stream.end();
    this.#tty.stream.destroy();
  }

  /** Bytes the server holds for this terminal: for tests and metrics. */
  bufferedChars(): number {
    return this.#scrollback.length + this.#unacked;
  }

  #output(text: string): void {
    if (!text) return;
    this.#scrollback = (this.#scrollback + text).slice(-SCROLLBACK_CHARS);
    if (this.#sink) this.#send(text);
    else this.#unseen += text.length;
    for (const w of this.#watchers) w({ type: 'output', term: this.id, data: text });
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
