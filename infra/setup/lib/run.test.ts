// run(): exit codes, output, input, and children that never read their input.
import { describe, expect, it } from 'vitest';
import { CommandError, mustRun, run } from './run.ts';

describe('run', () => {
  it('collects output and the exit code, and feeds input', async () => {
    expect(await run(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'in' })).toEqual({
      code: 3,
      stdout: 'in',
      stderr: 'err\n',
    });
  });

  it('survives a child that exits without reading a large input', async () => {
    for (let i = 0; i < 20; i++) {
      expect((await run(['true'], { input: 'x'.repeat(1 << 20) })).code).toBe(0);
    }
  });

  it('mustRun rejects with the command and the tail of its output', async () => {
    await expect(mustRun(['sh', '-c', 'echo broken >&2; exit 4'])).rejects.toThrow(CommandError);
    await expect(mustRun(['sh', '-c', 'echo broken >&2; exit 4'])).rejects.toThrow(/exited with 4:\nbroken/);
  });
});
