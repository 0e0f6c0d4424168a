// Starts a long-running program the way a service manager would, and waits until it is ready.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface DaemonOptions<R> {
  /** Appended to with everything the program prints. */
  logFile: string;
  /** Resolves with a value once the program is ready, or undefined while it is not yet. */
  ready: () => Promise<R | undefined> | R | undefined;
  /** What "ready" means, for the error when it does not come ("answer", "mount /var/lib/lxcfs"). */
  waitingFor: string;
  timeoutMs: number;
  pollMs: number;
}

/**
 * Starts `cmd` detached in its own session, so it outlives this command, and polls `ready` until it
 * gives a value; fails with the log's place if the program exits first or the time runs out.
 */
export async function startDaemon<R>(cmd: string, args: string[], o: DaemonOptions<R>): Promise<R> {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  closeSync(fd);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const name = basename(cmd);
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${name} exited with ${exited} while starting. Its log: ${o.logFile}`);
    const value = await o.ready();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
  throw new Error(`${name} did not ${o.waitingFor} within ${o.timeoutMs / 1000} s. Its log: ${o.logFile}`);
}
