// A throwaway nginx for tests, from Debian's `nginx` package, in a temporary folder on a free port,
// configured by the same template as the compose deployment's load balancer (infra/compose/nginx.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxConfig, type NginxOptions } from '../../../infra/compose/nginx.ts';
import { freePort } from './harness.ts';

const NGINX = '/usr/sbin/nginx';

export interface NginxServer {
  /** http://127.0.0.1:<port>: the platform through nginx. */
  url: string;
  /** The preview listener's port, when preview upstreams were given. */
  previewPort?: number;
  /** Points nginx at other replicas (default: the same ones) and waits for a worker with the new list. */
  reload(upstreams?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface StartNginxOptions {
  /** Replicas' platform listeners, `127.0.0.1:<port>`. */
  upstreams: string[];
  /** Replicas' preview listeners; with them nginx takes previews on a port of its own. */
  previewUpstreams?: string[];
  /** Anything else the template takes (limits, failure counting). */
  extra?: Partial<NginxOptions>;
}

export async function startNginx(opts: StartNginxOptions): Promise<NginxServer> {
  if (!existsSync(NGINX)) throw new Error('nginx is not installed: apt-get update && apt-get install -y nginx');
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-nginx-'));
  // As root, nginx's workers run as nobody: they must pass through to their temporary folders.
  chmodSync(dir, 0o711);
  const conf = join(dir, 'nginx.conf');
  const port = await freePort();
  const previewPort = opts.previewUpstreams?.length ? await freePort() : undefined;
  const write = (upstreams: string[]) =>
    writeFileSync(
      conf,
      nginxConfig({
        upstreams,
        ...(previewPort ? { previewUpstreams: opts.previewUpstreams, previewListen: `127.0.0.1:${previewPort}` } : {}),
        listen: `127.0.0.1:${port}`,
        runDir: dir,
        errorLog: join(dir, 'error.log'),
        workers: 1,
        ...opts.extra,
      }),
    );
  write(opts.upstreams);
  let upstreams = opts.upstreams;
  const master = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const errorLog = join(dir, 'error.log');
  const log = () => `${stderr}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8').slice(-2000) : ''}`.trim();
  try {
    await waitListening(master, port, log);
  } catch (err) {
    master.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    ...(previewPort ? { previewPort } : {}),
    async reload(next = upstreams) {
      upstreams = next;
      write(next);
      const before = new Set(workers(master.pid!));
      master.kill('SIGHUP');
      // Workers of the old list stay while their connections last, but take no new ones once they
      // are shutting down: the new list is live when a new worker runs and every old one says so.
      const reloaded = () => {
        const now = workers(master.pid!);
        return now.some((pid) => !before.has(pid)) && now.every((pid) => !before.has(pid) || shuttingDown(pid));
      };
      const deadline = Date.now() + 10_000;
      while (!reloaded()) {
        if (Date.now() > deadline) throw new Error(`nginx did not reload within 10 s:\n${log()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (master.exitCode === null && master.signalCode === null) {
        master.kill('SIGTERM');
        await once(master, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The master's children: its worker processes. */
function workers(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** nginx renames a worker that finishes its connections before it exits. */
const shuttingDown = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down');
  } catch {
    return true; // gone
  }
};

async function waitListening(master: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (master.exitCode !== null) throw new Error(`nginx exited (${master.exitCode}):\n${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port} within 10 s:\n${log()}`);
}
