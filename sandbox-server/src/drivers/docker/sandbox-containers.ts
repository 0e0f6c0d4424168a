// What the server does inside a running sandbox container, on whichever engine holds it: the wait
// for its inner engine, commands, terminals, its address. The docker driver uses it for the local
// engine, the swarm driver for the engine of the node that runs the sandbox.
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { ExecOptions, ExecResult, TerminalOptions, TerminalStream, Watch } from '../driver.ts';
import { ApiError } from '../../errors.ts';
import { limitReached } from './sandbox-limits.ts';
import { TtyStream } from './tty-stream.ts';
import { relayToPort } from './port-relay.ts';
import { SANDBOX_NETWORK } from '../../../../images/platform.ts';

export interface SandboxContainersOptions {
  /** The container (name or id) of a sandbox on this engine. */
  locate: (sandboxId: string) => string | Promise<string>;
  /** Whether the engine runs sandboxes under gVisor (some failures read differently there). */
  gvisor: () => Promise<boolean>;
  /** How long a new sandbox's inner engine may take to answer, in ms. */
  readyTimeoutMs: number;
  /** A file in the sandbox that must exist too before it is ready (the host agent's mark). */
  readyFile?: string;
}

export class SandboxContainers {
  readonly #docker: Docker;
  readonly #locate: SandboxContainersOptions['locate'];
  readonly #gvisor: SandboxContainersOptions['gvisor'];
  readonly #readyTimeoutMs: number;
  readonly #readyFile: string | undefined;

  constructor(docker: Docker, opts: SandboxContainersOptions) {
    this.#docker = docker;
    this.#locate = opts.locate;
    this.#gvisor = opts.gvisor;
    this.#readyTimeoutMs = opts.readyTimeoutMs;
    this.#readyFile = opts.readyFile;
  }

  async #container(sandboxId: string): Promise<Docker.Container> {
    return this.#docker.getContainer(await this.#locate(sandboxId));
  }

  /**
   * Waits inside the sandbox, in one exec: the engine's socket accepts connections from its first
   * milliseconds and answers them once its API is up, so the first answer to `/_ping` is the
   * signal. (Polling with `docker version` execs from here added about 80 ms.)
   */
  async waitReady(sandboxId: string): Promise<void> {
    const seconds = Math.ceil(this.#readyTimeoutMs / 1000);
    const script = `end=$(( $(date +%s) + ${seconds} ))
while [ "$(date +%s)" -lt "$end" ]; do
  ${this.#readyFile ? `[ -e ${this.#readyFile} ] && ` : ''}[ -S /var/run/docker.sock ] && curl -fsS --max-time ${seconds} --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null && exit 0
  sleep 0.02
done
exit 1`;
    const r = await this.exec(sandboxId, ['sh', '-c', script], { timeoutMs: this.#readyTimeoutMs + 5000 });
    if (r.exitCode === 0) return;
    const log = await this.exec(sandboxId, ['tail', '-n', '5', '/var/log/dockerd.log']).catch(() => undefined);
    throw new Error(
      `The sandbox's Docker Engine did not answer within ${this.#readyTimeoutMs} ms: ${r.stderr.trim()} ${log?.stdout.trim() ?? ''}`,
    );
  }

  async exec(sandboxId: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const container = await this.#container(sandboxId);
    const hasInput = opts.input !== undefined;
    const exec = await this.#execIn(container, {
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: hasInput,
    });
    const stream = await exec.start({ hijack: true, stdin: hasInput });
    const out = new PassThrough();
    const err = new PassThrough();
    // Decode once at the end: a multi-byte character may be split across chunks.
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on('data', (d: Buffer) => outChunks.push(d));
    err.on('data', (d: Buffer) => errChunks.push(d));
    this.#docker.modem.demuxStream(stream, out, err);
    if (hasInput) stream.end(opts.input);
    await new Promise<void>((resolve, reject) => {
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            stream.destroy();
            reject(new Error(`\`${cmd.join(' ')}\` did not finish within ${opts.timeoutMs} ms`));
          }, opts.timeoutMs)
        : undefined;
      stream.on('end', () => (clearTimeout(timer), resolve()));
      stream.on('close', () => (clearTimeout(timer), resolve()));
      stream.on('error', (e) => (clearTimeout(timer), reject(e)));
    }).catch(async (err: unknown) => {
      // A shell at the sandbox's pids limit retries fork until the time is up.
      await this.#explainLimit(container);
      throw err;
    });
    const { ExitCode } = await exec.inspect();
    const stdout = Buffer.concat(outChunks).toString('utf8');
    const stderr = Buffer.concat(errChunks).toString('utf8');
    // Runc could not start the command: when the sandbox is at its own limit, say that, not runc's words.
    if (ExitCode === 126 && `${stdout}${stderr}`.includes('OCI runtime exec failed'))
      await this.#explainLimit(container);
    return { exitCode: ExitCode ?? -1, stdout, stderr };
  }

  /** An exec in the sandbox; SANDBOX_STOPPED, saying why, when the sandbox is not running. */
  async #execIn(container: Docker.Container, options: Docker.ExecCreateOptions): Promise<Docker.Exec> {
    try {
      return await container.exec(options);
    } catch (err) {
      const { statusCode, message } = err as { statusCode?: number; message?: string };
      if (statusCode !== 409 || !/is not running/.test(message ?? '')) throw err;
      const state = (await container.inspect().catch(() => undefined))?.State;
      const gvisor = (await this.#gvisor())
        ? ' Under gVisor a sandbox that reaches its memory or process limit stops as a whole.'
        : '';
      throw new ApiError(
        'SANDBOX_STOPPED',
        state?.OOMKilled
          ? `It used all of its memory and was stopped.${gvisor}`
          : `It stopped${state ? ` (exit code ${state.ExitCode})` : ''}.${gvisor}`,
      );
    }
  }

  /** SANDBOX_AT_LIMIT, naming the limit, when the sandbox is at one of its own; else nothing. */
  async #explainLimit(container: Docker.Container): Promise<void> {
    const why = await limitReached(container);
    if (why) throw new ApiError('SANDBOX_AT_LIMIT', why);
  }

  async watch(sandboxId: string, cmd: string[], onLine: (line: string) => void): Promise<Watch> {
    const container = await this.#container(sandboxId);
    const exec = await this.#execIn(container, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    this.#docker.modem.demuxStream(stream, out, new PassThrough().resume());
    let pending = '';
    out.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    return { stop: () => stream.destroy(), ended };
  }

  /** A connection to `port` in the sandbox, through a relay in it (for a server on another host). */
  async relay(sandboxId: string, port: number): Promise<Duplex> {
    return relayToPort(this.#docker, await this.#container(sandboxId), port);
  }

  async address(sandboxId: string): Promise<string> {
    const info = await (await this.#container(sandboxId)).inspect();
    const ip = info.NetworkSettings.Networks[SANDBOX_NETWORK]?.IPAddress;
    if (!ip) throw new Error(`Sandbox ${sandboxId} has no address on ${SANDBOX_NETWORK}`);
    return ip;
  }

  /**
   * Terminal `name`, kept inside the sandbox by dockyard-tty (a login shell started on first use).
   * The exec itself has no TTY: with one, the engine would read Ctrl-P Ctrl-Q as its own detach
   * keys and end the shell.
   */
  openTerminal(sandboxId: string, name: string, opts: TerminalOptions): Promise<TerminalStream> {
    return this.#tty(sandboxId, ['attach', name, 'bash', '-l'], [`DOCKYARD_TTY_SIZE=${opts.cols}x${opts.rows}`]);
  }

  watchTerminal(sandboxId: string, name: string): Promise<TerminalStream> {
    return this.#tty(sandboxId, ['watch', name], []);
  }

  async terminals(sandboxId: string): Promise<string[]> {
    const r = await this.exec(sandboxId, ['dockyard-tty', 'list'], { timeoutMs: 10_000 });
    if (r.exitCode !== 0) throw new Error(`dockyard-tty list failed (${r.exitCode}): ${r.stderr.trim()}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  async #tty(sandboxId: string, args: string[], env: string[]): Promise<TerminalStream> {
    const container = await this.#container(sandboxId);
    const exec = await this.#execIn(container, {
      Cmd: ['dockyard-tty', ...args],
      Tty: false,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      WorkingDir: '/root/work',
      Env: ['TERM=xterm-256color', 'COLORTERM=truecolor', 'LANG=C.UTF-8', ...env],
    });
    const stream = new TtyStream(await exec.start({ hijack: true, stdin: true }));
    // Without a last word from the terminal, the exec's own status says why (it could not start one),
    // unless the server let go of it.
    const ended = stream.ended.then((end) =>
      end !== -1 || stream.writableEnded
        ? end
        : exec.inspect().then(
            (i) => i.ExitCode ?? -1,
            () => -1,
          ),
    );
    const { kept } = await stream.greeted;
    return {
      stream,
      kept,
      resize: (cols, rows) => stream.resize(cols, rows),
      hangUp: () => stream.hangUp(),
      ended,
    };
  }
}
