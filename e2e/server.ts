// A Dockyard server of a test's own, as a child process, that the test can stop and start again
// (the shared e2e server cannot be restarted mid-test). Its data folder is an e2e one, so the
// clean-up removes the sandboxes it leaves.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { E2E_DATA_PREFIX } from './cleanup.ts';

const main = join(dirname(fileURLToPath(import.meta.url)), '../sandbox-server/src/main.ts');

export interface OwnServer {
  url: string;
  /** Its DOCKYARD_DATA_DIR: a test may open its store (dockyard.sqlite) to set up state. */
  dataDir: string;
  start(): Promise<void>;
  /** SIGTERM, as a deploy would: sessions and their sandboxes are kept for the next start. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/**
 * A server on `port`. Servers of one deployment (on one PostgreSQL, behind a load balancer) share a
 * data folder: pass the same `dataDir`, made with E2E_DATA_PREFIX.
 */
export function ownServer(
  port: number,
  previewPort: number,
  env: Record<string, string> = {},
  dataDir = mkdtempSync(E2E_DATA_PREFIX),
): OwnServer {
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let log = '';
  const end = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    url,
    dataDir,
    async start() {
      child = spawn(process.execPath, [main], {
        env: {
          ...process.env,
          DOCKYARD_PORT: String(port),
          DOCKYARD_PREVIEW_PORT: String(previewPort),
          DOCKYARD_PUBLIC_URL: url,
          DOCKYARD_LOG_LEVEL: 'warn',
          DOCKYARD_WARM_POOL_SIZE: '0',
          DOCKYARD_DATA_DIR: dataDir,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${log}`);
        const up = await fetch(`${url}/api/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) return;
        if (Date.now() > deadline) throw new Error(`the server did not answer in 30 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}
