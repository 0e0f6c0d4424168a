// The learner's files without a sandbox: path checks, and what SandboxFiles asks a fake exec and makes of its answers.
import { describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult } from '../drivers/driver.ts';
import { ApiError } from '../errors.ts';
import { resolveInRoot, SandboxFiles } from './sandbox-files.ts';

const root = '/root/work';

/** A SandboxFiles whose exec records each call and answers with `reply`. */
function fake(reply: Partial<ExecResult> = {}, maxBytes = 100) {
  const calls: { cmd: string[]; opts?: ExecOptions }[] = [];
  const exec = async (cmd: string[], opts?: ExecOptions) => {
    calls.push({ cmd, opts });
    return { exitCode: 0, stdout: '', stderr: '', ...reply };
  };
  return { files: new SandboxFiles(exec, { root, maxBytes }), calls };
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ApiError ? e.code : `plain: ${(e as Error).message}`),
  );
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('resolveInRoot', () => {
  it.each([
    ['Dockerfile', '/root/work/Dockerfile'],
    ['app/src/server.js', '/root/work/app/src/server.js'],
    ['./app//x/', '/root/work/app/x'],
    ['/root/work/app/x', '/root/work/app/x'],
    ['a/../b', '/root/work/b'],
    ['', '/root/work'],
  ])('%j is %s', (path, abs) => {
    expect(resolveInRoot(root, path)).toBe(abs);
  });

  it.each(['../../etc/passwd', '/etc/passwd', 'a/../../x', '..', '/root/workshop/x', 'a\0b'])('refuses %j', (path) => {
    expect(() => resolveInRoot(root, path)).toThrow(expect.objectContaining({ code: 'FILE_PATH_INVALID' }));
  });
});

describe('SandboxFiles', () => {
  it('passes the path as an argv entry, never inside the script', async () => {
    const nasty = `$(touch /pwned)'"; rm -rf / #`;
    const { files, calls } = fake({ stdout: '' });
    await files.read(nasty);
    const [cmd] = calls.map((c) => c.cmd);
    expect(cmd!.slice(0, 2)).toEqual(['bash', '-c']);
    expect(cmd![2]).not.toContain('pwned');
    expect(cmd!.slice(3, 6)).toEqual(['bash', root, `${root}/${nasty}`]);
    expect(calls[0]!.opts?.timeoutMs).toBeGreaterThan(0);
  });

  it('lists folders first, then by name, with paths relative to the root', async () => {
    const records = ['f 12 b.txt', 'd 4096 src', 'l 7 link', 'f 3 a b\tc\nd', 'p 0 fifo', 'f 1 file10', 'f 1 file2'];
    const { files, calls } = fake({ stdout: b64(records.join('\0') + '\0') });
    const entries = await files.list('app');
    expect(calls[0]!.cmd[5]).toBe('/root/work/app');
    expect(entries.map((e) => e.name)).toEqual(['src', 'a b\tc\nd', 'b.txt', 'fifo', 'file2', 'file10', 'link']);
    expect(entries[0]).toEqual({ name: 'src', path: 'app/src', kind: 'dir', size: 4096 });
    expect(entries.find((e) => e.name === 'link')).toMatchObject({ kind: 'symlink', size: 7 });
    expect(entries.find((e) => e.name === 'fifo')).toMatchObject({ kind: 'other', path: 'app/fifo' });
  });

  it('lists the root by default, and an empty folder as nothing', async () => {
    const { files, calls } = fake({ stdout: '' });
    expect(await files.list()).toEqual([]);
    expect(calls[0]!.cmd[5]).toBe(root);
  });

  it('reads UTF-8 text as text and anything else as base64', async () => {
    expect(await fake({ stdout: b64('\ufeffhé\n') }).files.read('x.txt')).toEqual({
      path: 'x.txt',
      encoding: 'utf8',
      content: '\ufeffhé\n',
      size: 7,
    });
    const binary = Buffer.from([0x68, 0xff, 0x00]);
    expect(await fake({ stdout: b64(binary) }).files.read('/root/work/b')).toEqual({
      path: 'b',
      encoding: 'base64',
      content: b64(binary),
      size: 3,
    });
    expect((await fake({ stdout: b64('a\0b') }).files.read('nul')).encoding).toBe('base64');
  });

  it('checks the size in the sandbox before sending any content', async () => {
    const { files, calls } = fake({ exitCode: 69, stdout: '2097152\n' }, 1024);
    await expect(files.read('big.bin')).rejects.toThrow(expect.objectContaining({ code: 'FILE_TOO_LARGE' }));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.cmd[6]).toBe('1024');
    const script = calls[0]!.cmd[2]!;
    expect(script.indexOf('stat -c %s')).toBeLessThan(script.indexOf('base64'));
  });

  it('refuses content that grew past the limit after the size check', async () => {
    expect(await code(fake({ stdout: b64('x'.repeat(101)) }).files.read('grew'))).toBe('FILE_TOO_LARGE');
  });

  it('writes by sending the bytes base64 on stdin', async () => {
    const { files, calls } = fake();
    expect(await files.write('sub/hi.txt', 'hé')).toEqual({ path: 'sub/hi.txt', size: 3 });
    expect(calls[0]!.opts?.input).toBe(b64('hé'));
    expect(calls[0]!.cmd[5]).toBe('/root/work/sub/hi.txt');
    await files.write('bin', b64(Buffer.from([0, 255])), 'base64');
    expect(calls[1]!.opts?.input).toBe('AP8=');
  });

  it('refuses a write that is too large or not base64, without running anything', async () => {
    const { files, calls } = fake();
    expect(await code(files.write('big', 'x'.repeat(101)))).toBe('FILE_TOO_LARGE');
    expect(await code(files.write('bin', 'not base64!', 'base64'))).toBe('BAD_REQUEST');
    expect(calls).toHaveLength(0);
  });

  it('refuses the root itself and escaping paths as files', async () => {
    const { files, calls } = fake();
    expect(await code(files.read(''))).toBe('FILE_PATH_INVALID');
    expect(await code(files.write('.', 'x'))).toBe('FILE_PATH_INVALID');
    expect(await code(files.read('../../etc/passwd'))).toBe('FILE_PATH_INVALID');
    expect(await code(files.list('/etc'))).toBe('FILE_PATH_INVALID');
    expect(calls).toHaveLength(0);
  });

  it.each([
    [65, 'FILE_PATH_INVALID'],
    [66, 'FILE_NOT_FOUND'],
    [67, 'FILE_NOT_A_FILE'],
    [68, 'FILE_NOT_FOUND'],
    [70, 'FILE_PATH_INVALID'],
  ])('turns the exit code %i into %s', async (exitCode, expected) => {
    expect(await code(fake({ exitCode }).files.read('x'))).toBe(expected);
  });

  it('reports any other failure as a plain error with its stderr', async () => {
    const result = await code(
      fake({ exitCode: 1, stderr: 'base64: write error: No space left\n' }).files.write('x', 'y'),
    );
    expect(result).toMatch(/^plain: .*exit 1.*No space left/);
  });
});
