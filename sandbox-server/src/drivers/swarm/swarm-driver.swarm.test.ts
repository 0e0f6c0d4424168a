// The swarm driver over three sandbox hosts on this machine (test-support/sandbox-swarm.ts): the
// shared conformance suite, then what Swarm adds: sandboxes spread over the hosts, a host taken out
// of service (paused) gets no new ones and keeps its running ones, a host that refuses a sandbox is
// left out, and a sandbox carries every setting a sandbox host keeps for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverConformance, TEST_LIMITS, testSandboxId } from '../conformance.ts';
import { sandboxHosts, startSandboxSwarm, type SandboxSwarm } from '../../test-support/sandbox-swarm.ts';
import { SwarmDriver } from './swarm-driver.ts';
import { SANDBOX_IMAGE } from '../../../../images/platform.ts';

const MiB = 2 ** 20;
/** Small sandboxes: many fit this machine's memory, which every sandbox reserves whole. */
const SMALL = { ...TEST_LIMITS, memoryBytes: 384 * MiB, storageBytes: 512 * MiB };

let swarm: SandboxSwarm | undefined;
const started = startSandboxSwarm({ log: (line) => console.log(line), readyTimeoutMs: 60_000 }).then(
  (s) => (swarm = s),
);
started.catch(() => undefined); // the first test that needs it reports the failure
afterAll(async () => {
  await swarm?.close();
}, 300_000);

driverConformance('swarm', async () => (await started).driver);

describe('swarm driver', () => {
  let s: SandboxSwarm;
  beforeAll(async () => {
    s = await started;
  });

  /** The node each of these sandboxes runs on, as Swarm reports its task. */
  async function nodesOf(ids: string[]): Promise<Map<string, string>> {
    return new Map([...(await sandboxHosts(s.rig))].filter(([id]) => ids.includes(id)));
  }

  it('spreads 30 sandboxes over the hosts, and each runs commands where it is, inner containers too', async () => {
    const ids = Array.from({ length: 30 }, () => testSandboxId());
    const t0 = performance.now();
    try {
      await Promise.all(ids.map((id) => s.driver.create({ id, limits: SMALL })));
      console.log(`30 sandboxes ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const where = await nodesOf(ids);
      const counts = ['node1', 'node2', 'node3'].map((n) => [...where.values()].filter((w) => w === n).length);
      console.log(`per node: ${counts.join(', ')}`);
      // Swarm spreads a service's tasks, and these services, evenly: no host has more than half.
      expect(counts.every((c) => c >= 5 && c <= 15)).toBe(true);
      const answers = await Promise.all(ids.map((id) => s.driver.exec(id, ['cat', '/etc/hostname'])));
      expect(answers.every((r) => r.exitCode === 0 && r.stdout.trim() === 'sandbox')).toBe(true);
      // One on each host runs an inner container from its host's mirror.
      for (const node of ['node1', 'node2', 'node3']) {
        const id = ids.find((x) => where.get(x) === node)!;
        const r = await s.driver.exec(id, ['docker', 'run', '--rm', 'busybox', 'echo', `inner-${node}`]);
        expect(r.stdout.trim().split('\n').pop()).toBe(`inner-${node}`);
      }
    } finally {
      await Promise.all(ids.map((id) => s.driver.remove(id)));
    }
    const left = new Set((await s.driver.list()).map((x) => x.id));
    expect(ids.filter((id) => left.has(id))).toEqual([]);
  });

  it('keeps every setting a sandbox host keeps: the sandbox seccomp profile, user namespaces, its limits, its disk', async () => {
    const id = testSandboxId();
    await s.driver.create({ id, limits: SMALL });
    try {
      const sh = async (script: string) => (await s.driver.exec(id, ['sh', '-c', script])).stdout.trim();
      // keyctl (250) is one the sandbox profile refuses with ENOSYS; Docker's default allows it.
      expect(await sh(`perl -e 'syscall(250, 0, 0, 0, 0, 0); print "$!"'`)).toBe('Function not implemented');
      // Root inside is a host uid from the remap range, not root.
      expect(await sh('cat /proc/self/uid_map')).toMatch(/^\s*0\s+100000\s+65536$/);
      expect(
        await sh('cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'),
      ).toBe(String(SMALL.memoryBytes));
      // The disk is the sandbox's own, of its size: a larger write fails inside, nowhere else.
      const full = await sh('dd if=/dev/zero of=/root/big bs=1M count=600 2>&1; rm -f /root/big');
      expect(full).toMatch(/No space left on device/);
      expect(await sh('df -B1 --output=size /var/lib/docker | tail -1')).toMatch(/^\d+$/);
    } finally {
      await s.driver.remove(id);
    }
  });

  it("holds each host's network policy: a sandbox pulls from its host's mirror, and reaches neither its neighbour nor another host", async () => {
    // Two sandboxes on one host: Swarm places them there by a constraint on its name.
    const pinned = new SwarmDriver(s.rig.manager, {
      nodeEngine: (n) => s.rig.nodes.find((x) => x.name === n.hostname)!.docker,
      constraints: ['node.hostname == node2'],
      readyTimeoutMs: 60_000,
    });
    const [mine, theirs] = [testSandboxId(), testSandboxId()];
    await Promise.all([mine, theirs].map((id) => pinned.create({ id, limits: SMALL })));
    try {
      const sh = async (id: string, script: string) => (await pinned.exec(id, ['bash', '-c', script])).stdout.trim();
      // The neighbour serves nginx, pulled from the host's mirror through the policy.
      expect(
        await sh(
          theirs,
          `docker run -d -p 7777:80 nginx >/dev/null 2>&1; for i in $(seq 120); do curl -fs localhost:7777 >/dev/null && break; sleep 0.25; done
           curl -s -o /dev/null -m 3 -w '%{http_code}' localhost:7777`,
        ),
      ).toBe('200');
      const address = await sh(theirs, "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1");
      // Refused at once, not timed out: the policy rejects. The manager's Swarm port on another host
      // (node1, 10.77.0.11:2377) listens, and a sandbox must not reach it.
      const manager = s.rig.nodes[0]!.addr;
      for (const target of [`${address}:7777`, `${manager}:2377`]) {
        expect(
          await sh(mine, `curl -s -o /dev/null -m 3 -w '%{http_code} %{exitcode}' http://${target}/ || true`),
        ).toBe('000 7');
      }
    } finally {
      await Promise.all([mine, theirs].map((id) => pinned.remove(id)));
    }
  });

  it('reports a sandbox that stopped as lost, and never one it removes', async () => {
    const [stops, removed] = [testSandboxId(), testSandboxId()];
    await Promise.all([stops, removed].map((id) => s.driver.create({ id, limits: SMALL })));
    const seen = new Map<string, string>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const l of await s.driver.lost()) seen.set(l.id, l.why);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await s.driver.remove(removed);
      // The sandbox's own container dies on its host, as one killed there would.
      const host = (await nodesOf([stops])).get(stops)!;
      const engine = s.rig.nodes.find((n) => n.name === host)!.docker;
      const [container] = await engine.listContainers({ filters: { label: [`org.dockyard.sandbox=${stops}`] } });
      await engine.getContainer(container!.Id).kill();
      for (let i = 0; i < 200 && !seen.has(stops); i++) await new Promise((r) => setTimeout(r, 50));
      expect(seen.get(stops)).toMatch(/^its task is (failed|complete|shutdown)/);
      expect(seen.has(removed)).toBe(false);
    } finally {
      watching = false;
      await watch;
      await s.driver.remove(stops);
    }
  });

  it('answers OUT_OF_CAPACITY at once when no host has the memory left, and leaves nothing behind', async () => {
    const id = testSandboxId();
    const started = Date.now();
    const err = await s.driver.create({ id, limits: { ...SMALL, memoryBytes: 2 ** 40 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OUT_OF_CAPACITY' });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await s.driver.list()).map((x) => x.id)).not.toContain(id);
  });

  it('places a sandbox that a host refused on another host (node3, here without the sandbox image)', async () => {
    const node3 = s.rig.nodes.find((n) => n.name === 'node3')!.docker;
    const kept = { repo: 'dockyard-test/kept-sandbox', tag: 'kept' };
    const [repo, tag] = SANDBOX_IMAGE.split(':') as [string, string];
    await node3.getImage(SANDBOX_IMAGE).tag(kept);
    await node3.getImage(SANDBOX_IMAGE).remove();
    const ids = Array.from({ length: 3 }, () => testSandboxId());
    try {
      // One at a time: Swarm puts each where fewest run, so node3 (with none) is chosen at least once.
      for (const id of ids) await s.driver.create({ id, limits: SMALL });
      const where = await nodesOf(ids);
      expect(where.size).toBe(3);
      expect([...where.values()]).not.toContain('node3');
    } finally {
      await node3.getImage(`${kept.repo}:${kept.tag}`).tag({ repo, tag });
      await node3.getImage(`${kept.repo}:${kept.tag}`).remove();
      await Promise.all(ids.map((id) => s.driver.remove(id)));
    }
  });

  it("tells a sandbox at its pids limit as on one host (SANDBOX_AT_LIMIT), from its host's engine", async () => {
    const id = testSandboxId();
    const pids = 300;
    try {
      await s.driver.create({ id, limits: { ...SMALL, pids } });
      // A forker that keeps taking every pid the sandbox frees, so it stays at its limit.
      await s.driver.exec(id, [
        'sh',
        '-c',
        `setsid perl -e 'while (1) { my $p = fork(); if (!defined $p) { select(undef, undef, undef, 0.002) } elsif (!$p) { sleep 1000; exit } }' </dev/null >/dev/null 2>&1 &`,
      ]);
      let refused: unknown;
      for (let i = 0; i < 60 && (refused as { code?: string } | undefined)?.code !== 'SANDBOX_AT_LIMIT'; i++) {
        refused = await s.driver.exec(id, ['true'], { timeoutMs: 5000 }).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 200));
      }
      expect(refused).toMatchObject({
        code: 'SANDBOX_AT_LIMIT',
        message: expect.stringContaining(`may run at most ${pids}`),
      });
    } finally {
      await s.driver.remove(id);
    }
  });

  it('places no new sandbox on a paused host, and its running ones go on', async () => {
    const first = Array.from({ length: 3 }, () => testSandboxId());
    const later = Array.from({ length: 3 }, () => testSandboxId());
    try {
      // One at a time: Swarm puts each where fewest run, so one of them on each host.
      for (const id of first) await s.driver.create({ id, limits: SMALL });
      const before = await nodesOf(first);
      const onNode2 = first.filter((id) => before.get(id) === 'node2');
      expect(onNode2.length).toBeGreaterThan(0);
      // Pause, not drain: Swarm shuts down every task of a drained node (restart none: for good).
      await s.rig.availability('node2', 'pause');
      await Promise.all(later.map((id) => s.driver.create({ id, limits: SMALL })));
      expect([...(await nodesOf(later)).values()]).not.toContain('node2');
      // Swarm's orchestrator acts on a drained host at once: by now a drain would have ended them.
      await new Promise((r) => setTimeout(r, 3000));
      const lost = (await s.driver.lost()).map((l) => l.id);
      for (const id of onNode2) {
        expect((await s.driver.exec(id, ['echo', 'still-here'])).stdout).toBe('still-here\n');
        expect(lost).not.toContain(id);
      }
    } finally {
      await s.rig.availability('node2', 'active');
      await Promise.all([...first, ...later].map((id) => s.driver.remove(id)));
    }
  });
});
