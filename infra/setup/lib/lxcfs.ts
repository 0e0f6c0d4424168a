// Makes sure lxcfs serves its resource views, so `free` and `top` in a sandbox show its own limits.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
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
export async function ensureLxcfs(dir: string, logFile: string, timeoutMs = 10_000): Promise<LxcfsState> {
  if (mounted(dir) && existsSync(join(dir, 'proc/meminfo'))) return 'running';
  if (!existsSync('/usr/bin/lxcfs')) return 'missing';
  mkdirSync(dir, { recursive: true });
  mkdirSync(logFile.slice(0, logFile.lastIndexOf('/')), { recursive: true });
  const fd = openSync(logFile, 'a');
  // Detached in its own session so it outlives this command, like a system service would.
  const child = spawn('/usr/bin/lxcfs', ['--enable-cfs', dir], { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  closeSync(fd);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`lxcfs exited with ${exited} while starting. Its log: ${logFile}`);
    if (mounted(dir) && existsSync(join(dir, 'proc/meminfo'))) return 'started';
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`lxcfs did not mount ${dir} within ${timeoutMs / 1000} s. Its log: ${logFile}`);
}
