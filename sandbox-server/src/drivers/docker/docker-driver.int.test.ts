// The docker driver against the real engine: the shared conformance suite, then what is docker-specific.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../engine/engine.ts';
import { driverConformance, TEST_LIMITS, testSandboxId } from '../conformance.ts';
import { DockerDriver } from './docker-driver.ts';
import { containerName } from './sandbox-options.ts';

const docker = dockerClient('/var/run/docker.sock');

driverConformance('docker', () => new DockerDriver(docker));

describe('docker driver', () => {
  const driver = new DockerDriver(docker);
  const id = testSandboxId();
  afterAll(() => driver.remove(id));

  it('starts a sandbox that is not privileged, with its limits and its cgroups delegated', async () => {
    await driver.create({ id, limits: TEST_LIMITS });
    const info = await docker.getContainer(containerName(id)).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.Memory).toBe(TEST_LIMITS.memoryBytes);
    expect(info.HostConfig.MemorySwap).toBe(TEST_LIMITS.memoryBytes);
    expect(info.HostConfig.PidsLimit).toBe(TEST_LIMITS.pids);
    // An inner container's cgroup sits below the sandbox's, so the sandbox's limits cover it.
    const r = await driver.exec(id, ['docker', 'run', '--rm', 'busybox', 'cat', '/proc/self/cgroup']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`memory:/docker/${info.Id}/docker/[0-9a-f]{64}`));
    // The seccomp filter is on: a syscall Docker's default profile blocks fails, even for sandbox root.
    const sec = await driver.exec(id, [
      'sh',
      '-c',
      'grep Seccomp: /proc/1/status; perl -e \'print syscall(323, 0) < 0 ? "blocked: $!" : "allowed"\'',
    ]);
    expect(sec.stdout).toMatch(/Seccomp:\s+2/);
    expect(sec.stdout).toContain('blocked: Operation not permitted');
    const memLimit = readFileSync(`/sys/fs/cgroup/memory/docker/${info.Id}/memory.limit_in_bytes`, 'utf8');
    expect(Number(memLimit)).toBe(TEST_LIMITS.memoryBytes);
  });
});
