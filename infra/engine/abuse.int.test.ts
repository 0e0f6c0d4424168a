// Abuse suite: what a hostile learner (root in their sandbox) tries, and the safe outcome each time.
// Everything runs inside small test sandboxes; the host and a neighbour sandbox are only observed.
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../sandbox-server/src/drivers/docker/docker-driver.ts';
import { containerName } from '../../sandbox-server/src/drivers/docker/sandbox-options.ts';
import { testSandboxId } from '../../sandbox-server/src/drivers/conformance.ts';
import { dockerClient } from '../../sandbox-server/src/engine/engine.ts';

const MiB = 2 ** 20;
const docker = dockerClient('/var/run/docker.sock');
const driver = new DockerDriver(docker);
const attacker = testSandboxId();
const neighbour = testSandboxId();
/** A file only the host has: an escape that reached the host's filesystem would see it. */
const HOST_MARKER = `/tmp/dockyard-host-marker-${attacker}`;

const sh = async (id: string, script: string, timeoutMs = 60_000) =>
  driver.exec(id, ['bash', '-c', script], { timeoutMs });
const cgroupFile = async (id: string, controller: string, file: string) => {
  const full = (await docker.getContainer(containerName(id)).inspect()).Id;
  return readFileSync(`/sys/fs/cgroup/${controller}/docker/${full}/${file}`, 'utf8').trim();
};

beforeAll(async () => {
  writeFileSync(HOST_MARKER, 'host');
  await Promise.all([
    driver.create({ id: attacker, limits: { memoryBytes: 512 * MiB, cpus: 1, pids: 256, storageBytes: 256 * MiB } }),
    driver.create({ id: neighbour, limits: { memoryBytes: 512 * MiB, cpus: 1, pids: 256, storageBytes: 256 * MiB } }),
  ]);
});
afterAll(async () => {
  rmSync(HOST_MARKER, { force: true });
  await Promise.all([attacker, neighbour].map((id) => driver.remove(id)));
});

describe('abuse from inside a sandbox', () => {
  it('a fork bomb hits the pids limit; the neighbour and the host carry on', async () => {
    await sh(attacker, 'bomb() { bomb | bomb & }; (bomb) >/dev/null 2>&1 & sleep 3; true', 20_000).catch(
      () => undefined,
    );
    expect(Number(await cgroupFile(attacker, 'pids', 'pids.current'))).toBeGreaterThan(200);
    expect(await cgroupFile(attacker, 'pids', 'pids.max')).toBe('256');
    const r = await sh(neighbour, 'echo neighbour-fine');
    expect(r.stdout.trim()).toBe('neighbour-fine');
  });

  it('a memory bomb is killed inside its sandbox, at the sandbox limit', async () => {
    const r = await sh(neighbour, "perl -e '$x = q(x) x (900 * 1024 * 1024); print qq(survived\\n)'; echo exit=$?");
    expect(r.stdout).not.toContain('survived');
    expect(r.stdout).toMatch(/exit=137/);
    expect(await cgroupFile(neighbour, 'memory', 'memory.limit_in_bytes')).toBe(String(512 * MiB));
    expect((await sh(neighbour, 'echo still-here')).stdout.trim()).toBe('still-here');
  });

  it('filling the disk stops at the storage cap with "No space left on device"', async () => {
    const r = await sh(
      neighbour,
      'dd if=/dev/zero of=/var/lib/docker/fill bs=1M count=400 2>&1; df -m /var/lib/docker | tail -1; rm -f /var/lib/docker/fill',
    );
    expect(r.stdout).toContain('No space left on device');
    expect(Number(r.stdout.trim().split('\n').at(-1)!.split(/\s+/)[1])).toBeLessThanOrEqual(256);
  });

  it('an inner --privileged container is refused, and -v /:/host mounts the sandbox, not the host', async () => {
    const privileged = await sh(
      neighbour,
      `docker run --rm --privileged -v /:/host busybox test -e /host${HOST_MARKER} 2>&1; echo exit=$?`,
    );
    expect(privileged.stdout).toMatch(/operation not permitted/);
    expect(privileged.stdout).not.toContain('exit=0');
    const plain = await sh(
      neighbour,
      `docker run --rm -v /:/host busybox sh -c 'test -e /host${HOST_MARKER} && echo HOST-REACHED; test -e /host/root/work && echo sandbox-root'`,
    );
    expect(plain.stdout).not.toContain('HOST-REACHED');
    expect(plain.stdout).toContain('sandbox-root');
    expect(existsSync(HOST_MARKER)).toBe(true);
  });

  it('the cgroup release_agent escape is refused', async () => {
    const r = await sh(
      neighbour,
      `mkdir -p /tmp/cg && (mount -t cgroup -o rdma cgroup /tmp/cg 2>&1 || mount -t cgroup -o memory cgroup /tmp/cg 2>&1)
       if [ -w /tmp/cg/release_agent ] && echo /payload > /tmp/cg/release_agent 2>/dev/null; then echo AGENT-WRITTEN; else echo agent-refused; fi
       if echo /payload > /sys/fs/cgroup/memory/release_agent 2>/dev/null; then echo AGENT-WRITTEN; else echo agent-refused; fi`,
    );
    expect(r.stdout).not.toContain('AGENT-WRITTEN');
    expect(r.stdout).toContain('agent-refused');
  });

  it("the host's block devices cannot be created or mounted", async () => {
    const dev = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/');
    const majorMinor = dev?.split(' ')[2] ?? '253:0';
    const r = await sh(
      neighbour,
      `mknod /tmp/hostdisk b ${majorMinor.replace(':', ' ')} 2>&1 && (mount /tmp/hostdisk /mnt 2>&1 && echo MOUNTED || echo mount-refused) || echo mknod-refused
       ls /dev | grep -E '^(vd|sd|nvme)' || echo no-host-disks`,
    );
    expect(r.stdout).not.toContain('MOUNTED');
    expect(r.stdout).toMatch(/mknod-refused|mount-refused/);
    expect(r.stdout).toContain('no-host-disks');
  });
});
