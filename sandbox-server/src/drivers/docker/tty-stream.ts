// The server's end of dockyard-tty (images/sandbox/tty/dockyard-tty.c): a terminal made inside the
// sandbox and reached through a `docker exec` without a TTY, so Docker never reads the learner's
// keys as its own detach keys (Ctrl-P Ctrl-Q). Keystrokes and window sizes travel as frames.
import { Duplex } from 'node:stream';

/** Largest payload of one frame (its length is a 16-bit field). */
const FRAME_MAX = 0xffff;

/** Keystrokes as `'i'` frames. */
export function inputFrames(data: Buffer): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += FRAME_MAX) {
    const part = data.subarray(at, at + FRAME_MAX);
    const head = Buffer.alloc(3);
    head.write('i', 0, 'latin1');
    head.writeUInt16BE(part.length, 1);
    frames.push(head, part);
  }
  return Buffer.concat(frames);
}

/** A window size as an `'r'` frame. */
export function resizeFrame(cols: number, rows: number): Buffer {
  const frame = Buffer.alloc(7);
  frame.write('r', 0, 'latin1');
  frame.writeUInt16BE(4, 1);
  frame.writeUInt16BE(Math.min(cols, 0xffff), 3);
  frame.writeUInt16BE(Math.min(rows, 0xffff), 5);
  return frame;
}

/**
 * Raw terminal bytes over an exec's hijacked connection: writes become input frames, and the
 * engine's multiplexed output (8-byte headers: stream, 0, 0, 0, length) is unwrapped. Reading
 * pauses the connection when the consumer holds back, so a flood blocks the shell, not memory.
 */
export class TtyStream extends Duplex {
  readonly #conn: Duplex;
  #pending = Buffer.alloc(0);

  constructor(conn: Duplex) {
    super();
    this.#conn = conn;
    conn.on('data', (chunk: Buffer) => this.#demux(chunk));
    conn.on('end', () => this.push(null));
    conn.on('close', () => this.push(null));
    conn.on('error', (err) => this.destroy(err));
  }

  /** Sends a window size, in order with the keystrokes before it. */
  resize(cols: number, rows: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#conn.write(resizeFrame(cols, rows), (e) => (e ? reject(e) : resolve())),
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#conn.write(inputFrames(chunk), cb);
  }

  /** No more keystrokes: dockyard-tty hangs the terminal up. */
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
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    let more = true;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      // stdout is the terminal; stderr only carries dockyard-tty's own complaints, shown the same way.
      more = this.push(buf.subarray(8, 8 + size)) && more;
      buf = buf.subarray(8 + size);
    }
    this.#pending = Buffer.from(buf);
    if (!more) this.#conn.pause();
  }
}
