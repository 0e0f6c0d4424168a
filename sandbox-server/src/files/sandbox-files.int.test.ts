// The learner's files in a real sandbox: what the editor writes the shell sees, and the other way round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../drivers/docker/docker-driver.ts';
import { TEST_LIMITS, testSandboxId } from '../drivers/conformance.ts';
import { dockerClient } from '../engine/engine.ts';
import { SandboxFiles } from './sandbox-files.ts';

const driver = new DockerDriver(dockerClient('/var/run/docker.sock'));
const id = testSandboxId();
const files = new SandboxFiles((cmd, o) => driver.exec(id, cmd, o), { root: '/root/work', maxBytes: 1024 * 1024 });

/** Runs a shell script in the sandbox; fails the test with its output unless it exits 0. */
async function sh(script: string): Promise<string> {
  const r = await driver.exec(id, ['bash', '-c', `set -euo pipefail\n${script}`], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

const withCode = (code: string) => expect.objectContaining({ code });

beforeAll(async () => {
  await driver.create({ id, limits: TEST_LIMITS });
});
afterAll(() => driver.remove(id));

describe('SandboxFiles in a sandbox', () => {
  it('writes a file in a new folder, and the shell sees it', async () => {
    expect(await files.write('sub/hello.txt', 'héllo\n')).toEqual({ path: 'sub/hello.txt', size: 7 });
    const r = await driver.exec(id, ['cat', '/root/work/sub/hello.txt']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'héllo\n' });
  });

  it('lists and reads a file the shell made', async () => {
    await sh('echo hi > /root/work/from-shell.txt');
    const entries = await files.list();
    expect(entries).toContainEqual({ name: 'from-shell.txt', path: 'from-shell.txt', kind: 'file', size: 3 });
    expect(entries[0]).toMatchObject({ name: 'sub', kind: 'dir' });
    expect(await files.read('from-shell.txt')).toEqual({
      path: 'from-shell.txt',
      encoding: 'utf8',
      content: 'hi\n',
      size: 3,
    });
  });

  it('lists names with spaces, tabs and newlines intact', async () => {
    await sh(`mkdir -p /root/work/odd && touch /root/work/odd/$'a b\\tc\\nd' /root/work/odd/$'end\\n'`);
    expect((await files.list('odd')).map((e) => e.path)).toEqual(['odd/a b\tc\nd', 'odd/end\n']);
  });

  it('round-trips every byte value through base64', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await files.write('bin/all.bin', bytes.toString('base64'), 'base64');
    expect(await sh('od -An -tx1 -v /root/work/bin/all.bin | tr -d " \\n"')).toBe(bytes.toString('hex'));
    expect(await files.read('bin/all.bin')).toEqual({
      path: 'bin/all.bin',
      encoding: 'base64',
      content: bytes.toString('base64'),
      size: 256,
    });
  });

  it('refuses paths that leave the working directory, through .. or a symlink', async () => {
    await sh('ln -sfn /etc /root/work/etc-link');
    await expect(files.read('../../etc/passwd')).rejects.toThrow(withCode('FILE_PATH_INVALID'));
    await expect(files.read('etc-link/passwd')).rejects.toThrow(withCode('FILE_PATH_INVALID'));
    await expect(files.list('etc-link')).rejects.toThrow(withCode('FILE_PATH_INVALID'));
    await expect(files.write('etc-link/evil', 'x')).rejects.toThrow(withCode('FILE_PATH_INVALID'));
    expect(await sh('test ! -e /etc/evil && echo absent')).toBe('absent\n');
  });

  it('refuses a file over the limit, a folder, and a file that is not there', async () => {
    await sh('head -c 2097152 /dev/zero > /root/work/big.bin');
    await expect(files.read('big.bin')).rejects.toThrow(withCode('FILE_TOO_LARGE'));
    await expect(files.read('sub')).rejects.toThrow(withCode('FILE_NOT_A_FILE'));
    await expect(files.read('nope.txt')).rejects.toThrow(withCode('FILE_NOT_FOUND'));
    await expect(files.list('nope')).rejects.toThrow(withCode('FILE_NOT_FOUND'));
  });
});
