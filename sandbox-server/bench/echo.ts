// Keystroke echo: one character in over the session WebSocket, until the shell's echo of it comes back.
import type { WebSocket } from 'ws';
import type { ServerMessage } from '../src/protocol/messages.ts';
import { TestClient, type TestServer } from '../src/test-support/harness.ts';
import { checkInterrupted } from './servers.ts';
import { log, sleep } from './stats.ts';

const TERM = 'bench';
/** A line is cleared every this many characters, so readline never wraps (which redraws). */
const LINE = 20;
/** Lowercase only: readline's redraw sequences (ESC [ K, digits) never contain one by chance. */
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/**
 * Typing pace (20 keys/s, a fast typist): back-to-back keystrokes would finish in a second or two
 * and miss whatever the host does every few seconds, which a learner typing does meet.
 */
export const PACE_MS = 50;
/** Untimed keystrokes first, so JIT warm-up is not in the numbers. */
export const WARM_UP = LINE;

/**
 * Listens on the socket itself rather than TestSocket.until, which polls every 20 ms and
 * would round every sample up to that.
 */
function nextOutput(ws: WebSocket, match: (data: string) => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const msg = JSON.parse(String(raw)) as ServerMessage;
      if (msg.type === 'output' && msg.term === TERM && match(msg.data)) finish();
    };
    const timer = setTimeout(() => finish(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      if (err) reject(err);
      else resolve();
    };
    ws.on('message', onMessage);
  });
}

/** Resolves once the terminal has been silent for `quietMs`, so stray redraws cannot satisfy the next echo. */
async function quiet(ws: WebSocket, quietMs: number): Promise<void> {
  let last = performance.now();
  const onMessage = () => (last = performance.now());
  ws.on('message', onMessage);
  try {
    while (performance.now() - last < quietMs) await sleep(quietMs / 4);
  } finally {
    ws.off('message', onMessage);
  }
}

export async function echoTimes(server: TestServer, keystrokes: number): Promise<number[]> {
  const client = new TestClient(server.url);
  const sessionId = await client.createSession();
  const socket = await client.connect(sessionId);
  try {
    await socket.open(TERM);
    await socket.until(() => /[#$] $/.test(socket.output(TERM)), 30_000, 'the shell prompt');
    await quiet(socket.ws, 300);
    log('terminal open, prompt shown');
    const times: number[] = [];
    let lastSent = 0;
    for (let i = 0; i < WARM_UP + keystrokes; i++) {
      checkInterrupted();
      if (i > 0 && i % LINE === 0) {
        socket.send({ type: 'input', term: TERM, data: '\u0015' }); // Ctrl-U: discard the line
        await quiet(socket.ws, 100);
      }
      await sleep(Math.max(0, lastSent + PACE_MS - performance.now()));
      const ch = LETTERS[i % LETTERS.length]!;
      const echoed = nextOutput(socket.ws, (data) => data.includes(ch), 5_000);
      const started = (lastSent = performance.now());
      socket.send({ type: 'input', term: TERM, data: ch });
      await echoed;
      if (i >= WARM_UP) times.push(performance.now() - started);
    }
    return times;
  } finally {
    await socket.close();
    await client.req('DELETE', `/api/sessions/${sessionId}`).catch(() => undefined);
  }
}
