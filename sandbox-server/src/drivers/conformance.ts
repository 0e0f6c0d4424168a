// The contract every SandboxDriver must meet, run against a real backend by each driver's int test.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxDriver, SandboxLimits } from './driver.ts';

export const TEST_LIMITS: SandboxLimits = { memoryBytes: 2 ** 30, cpus: 1, pids: 512, storageBytes: 2 * 2 ** 30 };

export const testSandboxId = () => `t${randomUUID().slice(0, 8)}`;

/** Registers the conformance tests for the driver `make()` returns. */
export function driverConformance(name: string, make: () => SandboxDriver): void {
  describe(`SandboxDriver conformance: ${name}`, () => {
    const driver = make();
    const id = testSandboxId();
    let sandbox: Sandbox;

    beforeAll(async () => {
      sandbox = await driver.create({ id, limits: TEST_LIMITS, labels: { 'org.dockyard.test': 'conformance' } });
    });
    afterAll(() => driver.remove(id));

    it('creates a sandbox whose own engine answers', async () => {
      expect(sandbox.id).toBe(id);
      expect(sandbox.labels['org.dockyard.test']).toBe('conformance');
      const r = await driver.exec(id, ['docker', 'info', '--format', '{{.ServerVersion}}']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+/);
    });

    it('runs commands with their exit code, stdout, stderr and stdin', async () => {
      const r = await driver.exec(id, ['sh', '-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' });
      expect(r).toEqual({ exitCode: 3, stdout: 'hello', stderr: 'oops\n' });
    });

    it('pulls from the mirror and runs inner containers', async () => {
      const r = await driver.exec(id, ['docker', 'run', '--rm', 'busybox', 'echo', 'inner-ok']);
      expect(r.stdout.trim().split('\n').pop()).toBe('inner-ok');
      expect(r.exitCode).toBe(0);
    });

    it('lists the sandbox, and forgets it once removed (twice is fine)', async () => {
      const other = testSandboxId();
      await driver.create({ id: other, limits: TEST_LIMITS });
      expect((await driver.list()).map((s) => s.id)).toEqual(expect.arrayContaining([id, other]));
      await driver.remove(other);
      await driver.remove(other);
      expect((await driver.list()).map((s) => s.id)).not.toContain(other);
    });

    it('rejects exec in a sandbox that does not exist', async () => {
      await expect(driver.exec('nosuchsandbox', ['true'])).rejects.toThrow();
    });
  });
}
