// The Swarm rig, on real engines: three nodes that place, drain, lose and regain tasks as a Swarm of
// three hosts does, and that leave nothing behind when closed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwarmRig, type SwarmRig } from './swarm-rig.ts';

const BUSYBOX = 'dockyard-lib/busybox:latest';
const NETWORK = 'rig-net';
const LABELS = { node1: { zone: 'a' }, node2: { zone: 'b' }, node3: { zone: 'c', disk: 'ssd' } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report = (line: string) => console.log(`[swarm rig] ${line}`);

interface Task {
  ID: string;
  NodeID: string;
  Status: { State: string; Err?: string };
}

interface SwarmNode {
  ID: string;
  Description: { Hostname: string };
  Spec: { Role: string; Availability: string; Labels: Record<string, string> };
  Status: { State: string };
}

/** Polls `probe` until it returns a value; resolves with it and the ms it took. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`Not within ${timeoutMs} ms: ${what}`);
    await sleep(200);
  }
}

/** The mount points and the mounted cgroup hierarchies, as /proc/self/mountinfo has them. */
function mounts(pid = 'self') {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => ({ point: line.split(' ')[4]!, type: line.split(' - ')[1]!.split(' ')[0]! }));
}
const cgroupRoots = () =>
  mounts()
    .filter((m) => m.type === 'cgroup' || m.type === 'cgroup2')
    .map((m) => m.point);

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

describe('a Swarm of three engines on this machine', () => {
  let rig: SwarmRig;

  const nodes = async () => (await rig.manager.listNodes()) as SwarmNode[];
  const hostnames = async () => new Map((await nodes()).map((n) => [n.ID, n.Description.Hostname]));
  const tasks = async (service: string) => (await rig.manager.listTasks({ filters: { service: [service] } })) as Task[];
  /** A service of busybox tasks that are never restarted, with DNS round robin (no IPVS here). */
  const service = (name: string, command: string[], opts: { replicas?: number; on?: string } = {}) =>
    rig.manager.createService({
      Name: name,
      TaskTemplate: {
        // sleep, as PID 1, ignores SIGTERM: a task shut down would take the default 10 s to stop.
        ContainerSpec: { Image: BUSYBOX, Command: command, StopGracePeriod: 1e9 },
        RestartPolicy: { Condition: 'none' },
        Networks: [{ Target: NETWORK }],
        ...(opts.on ? { Placement: { Constraints: [`node.hostname==${opts.on}`] } } : {}),
      },
      Mode: { Replicated: { Replicas: opts.replicas ?? 1 } },
      EndpointSpec: { Mode: 'dnsrr' },
    });
  /** The hostnames of the service's running tasks, once there are `count` of them. */
  const running = (name: string, count: number) =>
    until(`${count} running tasks of ${name}`, async () => {
      const names = await hostnames();
      const up = (await tasks(name)).filter((t) => t.Status.State === 'running');
      return up.length === count ? up.map((t) => names.get(t.NodeID)!).sort() : undefined;
    });

  beforeAll(async () => {
    const started = Date.now();
    rig = await startSwarmRig({ labels: LABELS, log: report });
    report(`start: ${Date.now() - started} ms`);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('has three Ready and Active nodes named node1..node3, node1 the manager, labelled', async () => {
    const all = (await nodes()).sort((a, b) => a.Description.Hostname.localeCompare(b.Description.Hostname));
    expect(all.map((n) => n.Description.Hostname)).toEqual(['node1', 'node2', 'node3']);
    expect(all.map((n) => n.Status.State)).toEqual(['ready', 'ready', 'ready']);
    expect(all.map((n) => n.Spec.Availability)).toEqual(['active', 'active', 'active']);
    expect(all.map((n) => n.Spec.Role)).toEqual(['manager', 'worker', 'worker']);
    expect(all.map((n) => n.Spec.Labels)).toEqual([LABELS.node1, LABELS.node2, LABELS.node3]);
    expect(rig.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3']);
  });

  it('spreads three replicas over the three nodes, and a container on node1 reaches one on node3 by name', async () => {
    await rig.manager.createNetwork({ Name: NETWORK, Driver: 'overlay', Attachable: true });
    await service('spread', ['sleep', '3600'], { replicas: 3 });
    const spread = await running('spread', 3);
    report(`convergence of 3 replicas: ${spread.ms} ms`);
    expect(spread.value).toEqual(['node1', 'node2', 'node3']);

    await service('target', ['sleep', '3600'], { on: 'node3' });
    expect((await running('target', 1)).value).toEqual(['node3']);
    // The name is known on node1 once the network's gossip reaches it: the probe tries for a while.
    const script = 'for i in $(seq 30); do ping -c1 -W1 target && exit 0; sleep 1; done; exit 1';
    await service('probe', ['sh', '-c', script], { on: 'node1' });
    const probe = await until('the probe to finish', async () => {
      const [task] = await tasks('probe');
      return task && ['complete', 'failed', 'rejected'].includes(task.Status.State) ? task : undefined;
    });
    expect((await hostnames()).get(probe.value.NodeID)).toBe('node1');
    expect(probe.value.Status).toMatchObject({ State: 'complete' });
  });

  it('drains node2: its task shuts down and is not replaced, and new tasks go elsewhere', async () => {
    const names = await hostnames();
    const onNode2 = (await tasks('spread')).find(
      (t) => names.get(t.NodeID) === 'node2' && t.Status.State === 'running',
    );
    expect(onNode2).toBeDefined();
    await rig.availability('node2', 'drain');
    await until('the drained task to shut down', async () =>
      (await tasks('spread')).find((t) => t.ID === onNode2!.ID && t.Status.State === 'shutdown'),
    );
    // Long enough for a replacement to be scheduled, were one coming.
    await sleep(2000);
    expect(await tasks('spread')).toHaveLength(3);
    expect((await running('spread', 2)).value).toEqual(['node1', 'node3']);

    // node2, with no task left, is where the spread strategy would put it if it could.
    await service('after-drain', ['sleep', '3600']);
    expect((await running('after-drain', 1)).value).not.toEqual(['node2']);

    await rig.availability('node2', 'active');
    expect((await nodes()).find((n) => n.Description.Hostname === 'node2')?.Spec.Availability).toBe('active');
  });

  it('sees a killed node Down, and Ready again once restarted', async () => {
    await rig.kill('node3');
    await expect(rig.nodes[2]!.docker.ping()).rejects.toThrow();
    const down = await rig.waitNode('node3', 'down');
    report(`Down detection after the kill: ${down} ms`);
    const started = Date.now();
    await rig.restart('node3');
    report(`restart to Ready: ${Date.now() - started} ms`);
    expect((await nodes()).find((n) => n.Description.Hostname === 'node3')?.Status.State).toBe('ready');
  });

  it('closes without a trace: processes, mounts, cgroups, namespaces, folder', async () => {
    const runDir = dirname(dirname(rig.nodes[0]!.dataRoot));
    const runId = basename(runDir);
    const parents = rig.nodes.map((n) => n.cgroupParent.replace(/^\//, ''));
    const inRig = (pid: string) =>
      read(`/proc/${pid}/cmdline`).includes(runDir) ||
      parents.some((p) => read(`/proc/${pid}/cgroup`).includes(`/${p}`));
    // As `pid (name) state`. A zombie has exited already: it waits for its parent to collect it, and
    // the containers' orphans have PID 1 for a parent, which takes its time.
    const processes = () =>
      readdirSync('/proc')
        .filter((pid) => /^\d+$/.test(pid) && inRig(pid))
        .map((pid) => read(`/proc/${pid}/stat`).split(' ').slice(0, 3).join(' '))
        .filter((stat) => !/ [ZX]$/.test(stat));
    // The nodes' mounts are in their own mount namespaces: seen through their processes, and gone
    // with them; none may be left in this one either.
    const rigMounts = () =>
      ['self', ...readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && inRig(pid))]
        .flatMap((pid) => {
          try {
            return mounts(pid);
          } catch {
            return []; // gone meanwhile
          }
        })
        .filter((m) => m.point.startsWith(`${runDir}/`) || m.point === runDir);
    const cgroups = () =>
      cgroupRoots().flatMap((root) =>
        readdirSync(root)
          .filter((name) => parents.includes(name))
          .map((name) => join(root, name)),
      );
    const namespaces = () => readdirSync('/run/netns').filter((ns) => ns.includes(runId));

    // Each check sees something before, so that it could see something after.
    expect(processes().length).toBeGreaterThan(6);
    expect(rigMounts().length).toBeGreaterThan(3);
    expect(cgroups().length).toBeGreaterThanOrEqual(3);
    expect(namespaces()).toHaveLength(4);
    expect(existsSync(runDir)).toBe(true);

    const started = Date.now();
    await rig.close();
    report(`close: ${Date.now() - started} ms`);

    // Soft: a failure lists everything that was left, not just the first kind.
    expect.soft(processes()).toEqual([]);
    expect.soft(rigMounts()).toEqual([]);
    expect.soft(cgroups()).toEqual([]);
    expect.soft(namespaces()).toEqual([]);
    expect.soft(existsSync(runDir)).toBe(false);
  });
});
