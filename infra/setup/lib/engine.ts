// Makes sure a Docker Engine answers: uses a running one, or starts dockerd with infra/engine/daemon.json.
import { readFileSync, statSync } from 'node:fs';
import { startDaemon } from './daemon.ts';
import { run } from './run.ts';

export interface EngineState {
  version: string;
  userns: boolean;
  startedByUs: boolean;
  runtimes: string[];
}

async function probe(): Promise<EngineState | undefined> {
  const r = await run(['docker', 'info', '--format', '{{json .}}']);
  if (r.code !== 0) return undefined;
  try {
    const info = JSON.parse(r.stdout) as {
      ServerVersion?: string;
      SecurityOptions?: string[];
      Runtimes?: Record<string, unknown>;
    };
    if (!info.ServerVersion) return undefined;
    const userns = (info.SecurityOptions ?? []).some((o) => o.includes('userns'));
    return { version: info.ServerVersion, userns, startedByUs: false, runtimes: Object.keys(info.Runtimes ?? {}) };
  } catch {
    return undefined;
  }
}

/**
 * An engine started before a runtime was added to the config file lacks it. dockerd re-reads its
 * runtimes on SIGHUP without stopping a container, so ask it to, once.
 */
async function reloadForRuntimes(configFile: string, state: EngineState): Promise<EngineState> {
  const wanted = Object.keys((JSON.parse(readFileSync(configFile, 'utf8')) as { runtimes?: object }).runtimes ?? {});
  if (wanted.every((r) => state.runtimes.includes(r))) return state;
  const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  if (pid > 0) process.kill(pid, 'SIGHUP');
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await probe();
    if (now && wanted.every((r) => now.runtimes.includes(r))) return { ...now, startedByUs: state.startedByUs };
  }
  return state;
}

/** Returns the running engine, starting one in the background when none answers. */
export async function ensureEngine(configFile: string, logFile: string, timeoutMs = 60_000): Promise<EngineState> {
  const running = await probe();
  if (running) return reloadForRuntimes(configFile, running).catch(() => running);
  const start = () =>
    startDaemon('dockerd', ['--config-file', configFile], {
      logFile,
      ready: probe,
      waitingFor: 'answer',
      timeoutMs,
      pollMs: 250,
    });
  const logged = logSize(logFile);
  try {
    return { ...(await start()), startedByUs: true };
  } catch (err) {
    // On a slow machine (a loaded host, software emulation) dockerd can give up on the containerd it
    // started before that answers; started again, it finds that containerd up.
    if (!readFileSync(logFile).subarray(logged).toString().includes('timeout waiting for containerd to start'))
      throw err;
    return { ...(await start()), startedByUs: true };
  }
}

function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
