import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../protocol/messages.ts';
import { Terminal } from './terminal.ts';

function fakeTty() {
  const stream = new PassThrough();
  return { stream, resize: async () => undefined, exited: new Promise<number>(() => undefined) };
}

describe('Terminal', () => {
  it('marks the scrollback it replays on attach, and nothing after it', async () => {
    const tty = fakeTty();
    const t = new Terminal('t1', tty);
    // BusyBox sh asking where the cursor is: answering it again on a reload would type into bash.
    tty.stream.push('/ # \x1b[6n');
    await new Promise((r) => setImmediate(r));
    const seen: ServerMessage[] = [];
    t.attach((m) => seen.push(m));
    tty.stream.push('exit\r\n');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([
      { type: 'output', term: 't1', data: '/ # \x1b[6n', replay: true },
      { type: 'output', term: 't1', data: 'exit\r\n' },
    ]);
  });
});
