// Runs a child process for the setup tools: captured output, optional line streaming, clear failures.
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Sent to the child's stdin, then closed. */
  input?: string;
  /** Called with each complete output line (stdout and stderr) as it arrives. */
  onLine?: (line: string) => void;
  /** Inherit the terminal instead of capturing (for commands whose output the user should see). */
  inherit?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(cmd: string[], result: RunResult) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    super(`\`${cmd.join(' ')}\` exited with ${result.code}${tail ? `:\n${tail}` : ''}`);
    this.result = result;
  }
}

/** Runs a command and resolves with its result, whatever the exit code. */
export function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: opts.inherit ? 'inherit' : ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const feed = (chunk: string) => {
      if (!opts.onLine) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line);
    };
    child.stdout?.setEncoding('utf8').on('data', (d: string) => ((stdout += d), feed(d)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => ((stderr += d), feed(d)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (pending && opts.onLine) opts.onLine(pending);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (child.stdin) {
      // A child may exit without reading its input (iptables does): that EPIPE is not our failure.
      child.stdin.on('error', () => undefined);
      if (opts.input === undefined) child.stdin.end();
      else child.stdin.end(opts.input);
    }
  });
}

/** Runs a command and rejects with its output tail when it fails. */
export async function mustRun(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, opts);
  if (result.code !== 0) throw new CommandError(cmd, result);
  return result;
}
