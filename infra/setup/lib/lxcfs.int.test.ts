// ensureLxcfs on a real lxcfs: it starts one, keeps a healthy one, and replaces one that died
// (whose mount is left behind and answers every access with ENOTCONN).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLxcfs } from './lxcfs.ts';

const dir = mkdtempSync(join(tmpdir(), 'dockyard-lxcfs-'));
const log = join(dir + '.log');
// Its own pid file: the set-up's lxcfs (if running) holds the default one, /run/lxcfs.pid.
const pidFile = join(dir + '.pid');
/** The lxcfs process serving `dir` (its command line ends with the directory). */
const pidOf = () =>
  execFileSync('pgrep', ['-f', `lxcfs .*${dir}$`], { encoding: 'utf8' })
    .trim()
    .split('\n')[0]!;

afterAll(() => {
  // Each may have nothing to do (no lxcfs left, nothing mounted); that is fine.
  spawnSync('pkill', ['-f', `lxcfs .*${dir}$`]);
  spawnSync('umount', ['-l', dir]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(log, { force: true });
  rmSync(pidFile, { force: true });
});

describe.skipIf(!existsSync('/usr/bin/lxcfs'))('ensureLxcfs', () => {
  it('starts lxcfs, keeps a running one, and replaces one that died', async () => {
    expect(await ensureLxcfs(dir, log, { pidFile })).toBe('started');
    expect(readFileSync(join(dir, 'proc/meminfo'), 'utf8')).toMatch(/^MemTotal:/);
    expect(await ensureLxcfs(dir, log, { pidFile })).toBe('running');

    execFileSync('kill', ['-9', pidOf()]);
    await new Promise((r) => setTimeout(r, 200));
    expect(() => readFileSync(join(dir, 'proc/meminfo'))).toThrow(/ENOTCONN/);

    expect(await ensureLxcfs(dir, log, { pidFile })).toBe('started');
    expect(readFileSync(join(dir, 'proc/meminfo'), 'utf8')).toMatch(/^MemTotal:/);
  });
});
