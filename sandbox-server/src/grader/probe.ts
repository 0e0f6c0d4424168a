// How the grader looks at a sandbox: its own engine's API over the engine's unix socket, and a
// few commands, all run by the server through the driver. Never the learner's shell: tools are
// called by absolute path on the sandbox's read-only root filesystem, so a `docker` script put
// first in the learner's PATH changes nothing here.
import type { ExecResult, SandboxDriver } from '../drivers/driver.ts';

/** The engine API version of the sandbox image's engine (26.1). */
const API = '/v1.45';
export const WORK_DIR = '/root/work';

/** The platform could not look (exec failed, engine silent, timeout): never the learner's fault. */
export class PlatformFault extends Error {
  override name = 'PlatformFault';
}

export interface ApiReply<T> {
  status: number;
  body: T;
}

export interface Probe {
  /** A request to the sandbox's engine API; rejects with PlatformFault when the engine does not answer. */
  api<T = unknown>(
    path: string,
    opts?: { method?: 'GET' | 'HEAD' | 'POST' | 'DELETE'; body?: object },
  ): Promise<ApiReply<T>>;
  /** Runs bash in ~/work with the image's environment (not the learner's). */
  sh(script: string, timeoutMs?: number): Promise<ExecResult>;
}

export function sandboxProbe(driver: SandboxDriver, sandboxId: string, timeoutMs = 5000): Probe {
  const exec = async (cmd: string[], t = timeoutMs): Promise<ExecResult> => {
    try {
      return await driver.exec(sandboxId, cmd, { timeoutMs: t });
    } catch (err) {
      throw new PlatformFault(`the sandbox did not answer: ${(err as Error).message}`);
    }
  };
  return {
    async api<T>(path: string, opts: { method?: string; body?: object } = {}) {
      const method = opts.method ?? 'GET';
      const cmd = [
        '/usr/bin/curl',
        '-sS',
        '-m',
        String(Math.ceil(timeoutMs / 1000)),
        '--unix-socket',
        '/var/run/docker.sock',
      ];
      cmd.push(method === 'HEAD' ? '-I' : '-X', ...(method === 'HEAD' ? [] : [method]));
      if (opts.body) cmd.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(opts.body));
      cmd.push('-o', method === 'HEAD' ? '/dev/null' : '-', '-w', '\n%{http_code}', `http://docker${API}${path}`);
      const r = await exec(cmd);
      if (r.exitCode !== 0) throw new PlatformFault(`the sandbox's Docker Engine did not answer: ${r.stderr.trim()}`);
      const cut = r.stdout.lastIndexOf('\n');
      const status = Number(r.stdout.slice(cut + 1));
      const text = r.stdout.slice(0, Math.max(0, cut));
      let body: unknown = text;
      if (text && (text.startsWith('{') || text.startsWith('['))) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      if (status >= 500)
        throw new PlatformFault(`the sandbox's Docker Engine failed (${status}): ${text.slice(0, 200)}`);
      return { status, body: body as T };
    },
    sh: (script, t) => exec(['/bin/bash', '-c', `cd ${WORK_DIR} 2>/dev/null; ${script}`], t),
  };
}
