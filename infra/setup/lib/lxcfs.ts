// Makes sure lxcfs serves its resource views, so `free` and `top` in a sandbox show its own limits.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startDaemon } from './daemon.ts';
import { join } from 'node:path';

export type LxcfsState = 'running' | 'started' | 'missing';

const mounted = (dir: string) =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir && l.split(' ')[2] === 'fuse.lxcfs');

/**
 * Uses a running lxcfs at `dir`, or starts one in the background. `--enable-cfs` makes the CPU views
 * follow the CPU quota (a 1-CPU sandbox shows one processor in /proc/cpuinfo). Without the binary,
 * sandboxes show the host's numbers; the caller says so.
 */
export async function ensureLxcfs(
  dir: string,
  logFile: string,
  o: {
    timeoutMs?: number;
    /** lxcfs's own default, /run/lxcfs.pid, allows one lxcfs per host. */ pidFile?: string;
  } = {},
): Promise<LxcfsState> {
  const { timeoutMs = 10_000, pidFile } = o;
  if (mounted(dir) && existsSync(join(dir, 'proc/meminfo'))) return 'running';
  if (!existsSync('/usr/bin/lxcfs')) return 'missing';
  // An lxcfs that died leaves its mount behind: every access then fails with ENOTCONN ("Transport
  // endpoint is not connected"), mkdir included. Detach the dead mount before starting a new one.
  if (mounted(dir)) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  mkdirSync(dir, { recursive: true });
  return startDaemon('/usr/bin/lxcfs', ['--enable-cfs', ...(pidFile ? ['--pidfile', pidFile] : []), dir], {
    logFile,
    ready: () => (mounted(dir) && existsSync(join(dir, 'proc/meminfo')) ? ('started' as const) : undefined),
    waitingFor: `mount ${dir}`,
    timeoutMs,
    pollMs: 100,
  });
}
