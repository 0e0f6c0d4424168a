// The server's end of dockyard-tty (images/sandbox/tty/dockyard-tty.c): a terminal kept inside the
// sandbox by a keeper process and reached through a `docker exec` without a TTY, so Docker never
// reads the learner's keys as its own detach keys (Ctrl-P Ctrl-Q), and the terminal outlives the
// server process showing it. Both ways, everything travels as frames: type, u16 length, payload.
import { Duplex } from 'node:stream';
import type { TerminalEvent } from '../driver.ts';

/** Largest payload of one frame (its length is a 16-bit field). */
const FRAME_MAX = 0xffff;

function frame(type: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(3);
  head.write(type, 0, 'latin1');
  head.writeUInt16BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Keystrokes as `'i'` frames. */
export function inputFrames(data: Buffer): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += FRAME_MAX) frames.push(frame('i', data.subarray(at, at + FRAME_MAX)));
  return Buffer.concat(frames);
}

/** A window size as an `'r'` frame. */
export function resizeFrame(cols: number, rows: number): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt16BE(Math.min(cols, 0xffff), 0);
  size.writeUInt16BE(Math.min(rows, 0xffff), 2);
  return frame('r', size);
}

/** How a stream from dockyard-tty ended. */
export type TtyEnd = number | 'taken-over';

/**
 * A terminal over an exec's hijacked connection: writes become input frames; the engine's
 * multiplexed output (8-byte headers: stream, 0, 0, 0, length) is unwrapped and its frames read as
 * TerminalEvents. Reading pauses the connection when the consumer holds back, so a flood blocks
 * the shell, not memory. Ending the writable side lets go of the terminal; `hangUp` ends it.
 */
export class TtyStream extends Duplex {
  readonly #conn: Duplex;
  #muxed = Buffer.alloc(0);
  #frames = Buffer.alloc(0);
  #end: TtyEnd = -1;
  /** Resolves when the connection has ended: the command's status, 'taken-over', or -1 (the exec or sandbox went away). */
  readonly ended: Promise<TtyEnd>;
  /** Resolves with the keeper's greeting (or the end, when there is none): whether the terminal was running before. */
  readonly greeted: Promise<{ kept: boolean }>;
  #kept = false;
  #greet!: () => void;

  constructor(conn: Duplex) {
    super({ readableObjectMode: true });
    this.#conn = conn;
    let finish!: () => void;
    this.ended = new Promise<void>((resolve) => (finish = resolve)).then(() => this.#end);
    this.greeted = new Promise<void>((resolve) => (this.#greet = resolve)).then(() => ({ kept: this.#kept }));
    void this.ended.then(() => this.#greet());
    conn.on('data', (chunk: Buffer) => this.#demux(chunk));
    const done = () => {
      this.push(null);
      finish();
    };
    conn.on('end', done);
    conn.on('close', done);
    conn.on('error', (err) => {
      finish();
      this.destroy(err);
    });
  }

  /** Sends a window size, in order with the keystrokes before it. */
  resize(cols: number, rows: number): Promise<void> {
    return this.#send(resizeFrame(cols, rows));
  }

  /** Ends the terminal's command (SIGHUP), as closing a terminal window does. */
  hangUp(): Promise<void> {
    return this.#send(frame('h'));
  }

  #send(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.#conn.write(data, (e) => (e ? reject(e) : resolve())));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#conn.write(inputFrames(chunk), cb);
  }

  /** No more keystrokes: dockyard-tty lets go of the terminal, which keeps running. */
  override _final(cb: (err?: Error | null) => void): void {
    this.#conn.end();
    cb();
  }

  override _read(): void {
    this.#conn.resume();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.#conn.destroy();
    cb(err);
  }

  #demux(chunk: Buffer): void {
    let buf = this.#muxed.length ? Buffer.concat([this.#muxed, chunk]) : chunk;
    let more = true;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const payload = buf.subarray(8, 8 + size);
      // stdout carries frames; stderr only dockyard-tty's own complaints, shown as output.
      if (buf[0] === 2)
        more = this.push({ type: 'output', data: Buffer.from(payload) } satisfies TerminalEvent) && more;
      else more = this.#unframe(payload) && more;
      buf = buf.subarray(8 + size);
    }
    this.#muxed = Buffer.from(buf);
    if (!more) this.#conn.pause();
  }

  /** Reads dockyard-tty's frames; false when the consumer wants no more for now. */
  #unframe(chunk: Buffer): boolean {
    let buf = this.#frames.length ? Buffer.concat([this.#frames, chunk]) : chunk;
    let more = true;
    while (buf.length >= 3) {
      const len = buf.readUInt16BE(1);
      if (buf.length < 3 + len) break;
      const type = String.fromCharCode(buf[0]!);
      const p = Buffer.from(buf.subarray(3, 3 + len));
      buf = buf.subarray(3 + len);
      if (type === 'o' || type === 'p') more = this.push({ type: 'output', data: p, replay: type === 'p' }) && more;
      else if (type === 's' && len === 4) {
        more = this.push({ type: 'size', cols: p.readUInt16BE(0), rows: p.readUInt16BE(2) }) && more;
        this.#greet();
      } else if (type === 'k') this.#kept = true;
      else if (type === 'x' && len === 1) this.#end = p[0]!;
      else if (type === 'd') this.#end = 'taken-over';
    }
    this.#frames = Buffer.from(buf);
    return more;
  }
}
