// The docker driver against the real engine: the shared conformance suite, then what is docker-specific.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerClient } from '../../engine/engine.ts';
import { driverConformance, TEST_LIMITS, testSandboxId } from '../conformance.ts';
import { run } from '../../../../infra/setup/lib/run.ts';
import { probeRunsc } from '../../../../infra/setup/lib/runsc.ts';
import { ApiError } from '../../errors.ts';
import { DockerDriver } from './docker-driver.ts';
import { containerName } from './sandbox-options.ts';
import { peerNetworkName, removeAbandonedPeerNetworks } from './peer-network.ts';
import { coversRunc, testRuntimes } from '../../test-support/runtimes.ts';

const docker = dockerClient('/var/run/docker.sock');

// Once per runtime this run covers (DOCKYARD_TEST_RUNTIMES): runc in the int tier, runsc in its own.
for (const { runtime, skip } of await testRuntimes()) {
  const name = runtime === 'runc' ? 'docker' : `docker (${runtime})`;
  if (skip) describe.skip(`SandboxDriver conformance: ${name}, skipped: ${skip}`, () => it('runs', () => undefined));
  // gVisor does not see networks added to a running sandbox: its driver refuses peer networks.
  else
    driverConformance(name, () => new DockerDriver(docker, { runtime }), {
      peerNetworks: runtime === 'runc' ? true : { refusedWith: 'NODES_UNSUPPORTED' },
    });
}

describe.runIf(coversRunc)('docker driver', () => {
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
    // Docker's masked paths and device allow-list are kept: /proc/keys is /dev/null (this kernel
    // has no /proc/kcore), /sys/firmware is empty, and /dev holds only the default devices.
    const masks = await driver.exec(id, ['sh', '-c', 'stat -c %t:%T /proc/keys; ls -A /sys/firmware | wc -l; ls /dev']);
    const [keys, firmware, ...devices] = masks.stdout.trim().split('\n');
    expect(keys).toBe('1:3');
    expect(firmware).toBe('0');
    expect(devices.filter((d) => /^(sd|vd|nvme|loop|mem|kmem|port|dm-)/.test(d))).toEqual([]);
    expect(devices).toContain('null');
    const memLimit = readFileSync(`/sys/fs/cgroup/memory/docker/${info.Id}/memory.limit_in_bytes`, 'utf8');
    expect(Number(memLimit)).toBe(TEST_LIMITS.memoryBytes);
  });
});

describe.runIf(coversRunc)("a sandbox's own disk", () => {
  const driver = new DockerDriver(docker);
  const id = testSandboxId();
  const limits = { ...TEST_LIMITS, storageBytes: 512 * 2 ** 20 };
  afterAll(() => driver.remove(id));

  it('holds home, /tmp and the engine storage under one cap; the rest is read-only', async () => {
    await driver.create({ id, limits });
    const r = await driver.exec(id, [
      'bash',
      '-c',
      `df -B1 --output=source,size / /root/work /tmp /var/lib/docker | tail -n +2
       dd if=/dev/zero of=/root/work/fill bs=1M count=700 2>&1 | grep -o 'No space left on device'
       dd if=/dev/zero of=/tmp/more bs=1M count=10 2>&1 | grep -o 'No space left on device'
       touch /outside 2>&1 | grep -o 'Read-only file system'
       rm -f /root/work/fill /tmp/more; docker run --rm busybox echo engine-still-works`,
    ]);
    const lines = r.stdout.trim().split('\n');
    const [rootfs, ...onDisk] = lines.slice(0, 4).map((l) => l.split(/\s+/));
    // One loop device behind the three writable places, sized to the cap; the root is something else.
    expect(new Set(onDisk.map(([source]) => source)).size).toBe(1);
    expect(onDisk[0]![0]).toMatch(/^\/dev\/loop\d+$/);
    expect(rootfs![0]).not.toBe(onDisk[0]![0]);
    expect(Number(onDisk[0]![1])).toBeGreaterThan(0.9 * limits.storageBytes);
    expect(Number(onDisk[0]![1])).toBeLessThanOrEqual(limits.storageBytes);
    expect(lines.filter((l) => l === 'No space left on device')).toHaveLength(2);
    expect(r.stdout).toContain('Read-only file system');
    expect(r.stdout).toContain('engine-still-works');
    // The host paid for what was written, at most, not more: the disk file's blocks stay under the
    // cap. (Its own blocks, not the host's free space, which other work on the host moves.)
    const used = statSync(join(driver.disks.dir, `${id}.img`)).blocks * 512;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(limits.storageBytes);
  });

  it('is unmounted and deleted with its sandbox', async () => {
    const mnt = driver.disks.mountPoint(id);
    expect(readFileSync('/proc/self/mounts', 'utf8')).toContain(` ${mnt} `);
    await driver.remove(id);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(` ${mnt} `);
    expect(existsSync(mnt)).toBe(false);
    expect(await driver.disks.list()).not.toContain(id);
  });
});

describe.runIf(coversRunc)('the runtime setting', () => {
  it('passes the runtime through to the engine and accepts runc without a probe', async () => {
    const driver = new DockerDriver(docker, { runtime: 'runc' });
    await driver.checkRuntime();
    const id = testSandboxId();
    try {
      await driver.create({ id, limits: TEST_LIMITS });
      expect((await docker.getContainer(containerName(id)).inspect()).HostConfig.Runtime).toBe('runc');
    } finally {
      await driver.remove(id);
    }
  });

  it('refuses a runtime the engine does not know, naming the ones it does', async () => {
    const err = await new DockerDriver(docker, { runtime: 'kata-nope' }).checkRuntime().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('RUNTIME_UNKNOWN');
    expect((err as ApiError).message).toMatch(/"kata-nope".*runc/);
  });

  it('accepts a runsc that hosts an inner engine, refuses one that does not with the clear error, and leaves nothing behind', async () => {
    const works = (await probeRunsc()).ok;
    // On a host where runsc cannot start a networked container (Debian's before 20240807 on Linux
    // 6.11 and later, when the set-up could not build the fixed one), the real runsc is the broken
    // one. Elsewhere a sandbox image with no engine in it stands for a runtime that cannot host one.
    const broken = new DockerDriver(docker, {
      runtime: 'runsc',
      readyTimeoutMs: 10_000,
      ...(works ? { image: 'dockyard-lib/busybox:latest' } : {}),
    });
    if (works) await new DockerDriver(docker, { runtime: 'runsc' }).checkRuntime();
    // Only the start-up probe's own sandboxes count: other tests and tiers make sandboxes meanwhile.
    const probes = async () => (await broken.list()).filter((s) => s.id.startsWith('probe')).length;
    const before = await probes();
    const err = await broken.checkRuntime().catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('RUNTIME_CANNOT_HOST_ENGINE');
    expect((err as ApiError).message).toMatch(
      /runtime "runsc" \(\/usr\/bin\/runsc\) could not start its Docker Engine: \S/,
    );
    // A broken runsc: the reason is its own, so the engine really started the sandbox with it.
    if (!works) expect((err as ApiError).message).toMatch(/OCI runtime/);
    expect(await probes()).toBe(before);
    // Nothing of it is left running or mounted: no runsc process of a container that is gone, no loop
    // device on a deleted disk. (Other tiers' runsc sandboxes may run meanwhile.)
    const live = new Set((await run(['docker', 'ps', '-aq', '--no-trunc'])).stdout.split('\n'));
    const { stdout } = await run(['ps', '-eo', 'args']);
    const leftovers = stdout
      .split('\n')
      .filter((l) => l.startsWith('runsc'))
      .map((l) => /[0-9a-f]{64}/.exec(l)?.[0])
      .filter((container) => container && !live.has(container));
    expect(leftovers).toEqual([]);
    expect((await run(['losetup', '-a'])).stdout).not.toMatch(/probe[0-9a-f]+\.img \(deleted\)/);
  });
});

describe.runIf(coversRunc)('peer networks', () => {
  it("makes more peer networks than the engine's default pools hold, each on a /28 of its own, past a taken slot", async () => {
    const driver = new DockerDriver(docker);
    const ids = Array.from({ length: 40 }, (_, i) => `pool${testSandboxId()}${i}`);
    // Another network already holds the subnet the first id would take.
    const squatter = `dockyard-test-squat-${testSandboxId()}`;
    const subnetOf = async (name: string) =>
      ((await docker.getNetwork(name).inspect()) as { IPAM: { Config: { Subnet: string }[] } }).IPAM.Config[0]!.Subnet;
    await driver.createPeerNetwork(ids[0]!);
    const wanted = await subnetOf(peerNetworkName(ids[0]!));
    await driver.removePeerNetwork(ids[0]!);
    await docker.createNetwork({ Name: squatter, Internal: true, IPAM: { Config: [{ Subnet: wanted }] } });
    try {
      await Promise.all(ids.map((id) => driver.createPeerNetwork(id)));
      const subnets = await Promise.all(ids.map((id) => subnetOf(peerNetworkName(id))));
      expect(new Set(subnets).size).toBe(ids.length);
      for (const s of subnets) expect(s).toMatch(/^198\.1[89]\.\d+\.\d+\/28$/);
      expect(subnets[0]).not.toBe(wanted);
    } finally {
      await Promise.all(ids.map((id) => driver.removePeerNetwork(id)));
      await docker.getNetwork(squatter).remove();
    }
  });

  it('removes abandoned peer networks (no sandbox left on them) and keeps those in use', async () => {
    const driver = new DockerDriver(docker);
    const [used, abandoned, id] = [`u${testSandboxId()}`, `a${testSandboxId()}`, testSandboxId()];
    await driver.create({ id, limits: TEST_LIMITS });
    try {
      await driver.createPeerNetwork(used);
      await driver.createPeerNetwork(abandoned);
      await driver.joinPeerNetwork(used, id, 'node1');
      // Too young: kept, whatever is on it.
      await removeAbandonedPeerNetworks(docker, 60_000);
      expect((await driver.listPeerNetworks()).map((n) => n.id)).toEqual(expect.arrayContaining([used, abandoned]));
      await removeAbandonedPeerNetworks(docker, 0);
      const left = (await driver.listPeerNetworks()).map((n) => n.id);
      expect(left).toContain(used);
      expect(left).not.toContain(abandoned);
    } finally {
      await driver.remove(id);
      await driver.removePeerNetwork(used);
      await driver.removePeerNetwork(abandoned);
    }
  });
});

describe.runIf(coversRunc)('a sandbox that stopped', () => {
  const driver = new DockerDriver(docker);
  const id = testSandboxId();
  afterAll(() => driver.remove(id));

  it('answers exec, watch and a new terminal with SANDBOX_STOPPED, not the engine words', async () => {
    await driver.create({ id, limits: TEST_LIMITS });
    await docker.getContainer(containerName(id)).kill({ signal: 'SIGKILL' });
    const stopped = { code: 'SANDBOX_STOPPED', message: 'It stopped (exit code 137).' };
    await expect(driver.exec(id, ['true'])).rejects.toMatchObject(stopped);
    await expect(driver.watch(id, ['true'], () => undefined)).rejects.toMatchObject(stopped);
    await expect(driver.openTerminal(id, 't1', { cols: 80, rows: 24 })).rejects.toMatchObject(stopped);
  });
});
