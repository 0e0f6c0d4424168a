// Makes sure a Docker Engine answers: uses a running one, or starts dockerd with infra/engine/daemon.json.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { run } from './run.ts';

export interface EngineState {
  version: string;
  userns: boolean;
  startedByUs: boolean;
}

async function probe(): Promise<EngineState | undefined> {
  const r = await run(['docker', 'info', '--format', '{{json .}}']);
  if (r.code !== 0) return undefined;
  try {
    const info = JSON.parse(r.stdout) as { ServerVersion?: string; SecurityOptions?: string[] };
    if (!info.ServerVersion) return undefined;
    const userns = (info.SecurityOptions ?? []).some((o) => o.includes('userns'));
    return { version: info.ServerVersion, userns, startedByUs: false };
  } catch {
    return undefined;
  }
}

/** Returns the running engine, starting one in the background when none answers. */
export async function ensureEngine(configFile: string, logFile: string, timeoutMs = 60_000): Promise<EngineState> {
  const running = await probe();
  if (running) return running;
  mkdirSync(logFile.slice(0, logFile.lastIndexOf('/')), { recursive: true });
  const fd = openSync(logFile, 'a');
  // Detached in its own session so it outlives this command, like a system service would.
  const child = spawn('dockerd', ['--config-file', configFile], { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  closeSync(fd);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`dockerd exited with ${exited} while starting. Its log: ${logFile}`);
    const state = await probe();
    if (state) return { ...state, startedByUs: true };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not answer within ${timeoutMs / 1000} s. Its log: ${logFile}`);
}
