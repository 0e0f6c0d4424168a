import { describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import { Terminal } from './terminal.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('Terminal', () => {
  it('marks the scrollback it replays on attach, and nothing after it', async () => {
    const driver = new FakeDriver();
    await driver.create({ id: 's1', limits: { memoryBytes: 1, cpus: 1, pids: 1, storageBytes: 1 } });
    const t = new Terminal('t1', await driver.openTerminal('s1', 't1', { cols: 80, rows: 24 }));
    // BusyBox sh asking where the cursor is: answering it again on a reload would type into bash.
    t.input('/ # \x1b[6n');
    await tick();
    const seen: ServerMessage[] = [];
    t.attach((m) => seen.push(m));
    t.input('exit\r\n');
    await tick();
    expect(seen).toEqual([
      { type: 'output', term: 't1', data: '/ # \x1b[6n', replay: true },
      { type: 'output', term: 't1', data: 'exit\r\n' },
    ]);
  });

  it('marks the scrollback another server kept as replay, and says when another window takes it over', async () => {
    const driver = new FakeDriver();
    await driver.create({ id: 's1', limits: { memoryBytes: 1, cpus: 1, pids: 1, storageBytes: 1 } });
    const first = new Terminal('t1', await driver.openTerminal('s1', 't1', { cols: 80, rows: 24 }));
    first.input('\x1b[6n?');
    await tick();
    const firstSeen: ServerMessage[] = [];
    first.attach((m) => firstSeen.push(m));
    // Another server attaches the same terminal: it replays what this one showed, marked as such.
    const second = new Terminal('t1', await driver.openTerminal('s1', 't1', { cols: 80, rows: 24 }));
    const seen: ServerMessage[] = [];
    second.attach((m) => seen.push(m));
    await tick();
    expect(seen).toEqual([{ type: 'output', term: 't1', data: '\x1b[6n?', replay: true }]);
    expect(firstSeen.at(-1)).toMatchObject({ type: 'error', term: 't1', code: 'TERMINAL_ELSEWHERE' });
    expect(first.exited).toBe(true);
    second.close();
    await tick();
    expect(seen.at(-1)).toEqual({ type: 'exit', term: 't1', code: 129 });
  });
});
