// A Docker Swarm on this one machine, for tests: each node is a dockerd of its own (with the
// containerd it starts) in a network namespace and UTS namespace of its own, and the nodes' namespaces
// are joined by a bridge in one more namespace. A rig lives under RIG_BASE/<id>, and everything else
// it makes (namespaces, cgroups) is named after that id, so a later run can find and remove the rig of
// a test process that died, while the rigs of live ones stay.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { CommandError, mustRun, run } from '../../../infra/setup/lib/run.ts';
import { dockerClient } from '../engine/engine.ts';

export interface RigNode {
  /** node1, node2...: also its hostname, so the name Swarm knows it by. */
  name: string;
  /** Its address on the rig's bridge. */
  addr: string;
  /** Its engine's unix socket. */
  socket: string;
  docker: Docker;
  dataRoot: string;
  execRoot: string;
  /** Where its containers' cgroups go. */
  cgroupParent: string;
  /** Its network namespace's name: /run/netns/<netns>, where its bridges and iptables rules are. */
  netns: string;
  /** The folder its engine sees as /run/docker/plugins, where it finds its host's volume plugins. */
  pluginDir: string;
}

export interface SwarmRig {
  /** node1 is the manager, the others are workers. */
  nodes: RigNode[];
  manager: Docker;
  /** Stops the node's engine abruptly (SIGKILL to dockerd and its containerd, as a host that lost power), leaving its containers' processes killed too. */
  kill(name: string): Promise<void>;
  /** Starts a killed node's engine again (same data) and waits until the manager reports it Ready. */
  restart(name: string): Promise<void>;
  /** Waits until the manager reports the node in `state`, returns the ms it took. */
  waitNode(name: string, state: 'ready' | 'down', timeoutMs?: number): Promise<number>;
  /** Sets a node's availability. */
  availability(name: string, value: 'active' | 'drain' | 'pause'): Promise<void>;
  /** Removes everything: processes, mounts, cgroups, namespaces, folders. */
  close(): Promise<void>;
}

export interface SwarmRigOptions {
  /** 3 by default. */
  nodes?: number;
  /** Images from the host's engine to load into every node (there is no registry). */
  images?: string[];
  /** Every node's daemon.json. */
  daemonConfig?: Record<string, unknown>;
  /** Node labels, by node name. */
  labels?: Record<string, Record<string, string>>;
  /** Progress, a line at a time. */
  log?: (line: string) => void;
  /** Run before a killed node's engine starts again, as the host's service manager would. */
  beforeRestart?: (node: RigNode) => void;
}

export const RIG_BASE = '/var/lib/dockyard-rig';
/** The configuration of the sandbox hosts, less what a node does not need (runsc, log rotation). */
export const DEFAULT_DAEMON_CONFIG: Record<string, unknown> = {
  'storage-driver': 'overlay2',
  'exec-opts': ['native.cgroupdriver=cgroupfs'],
  'userns-remap': 'default',
  features: { buildkit: false },
};
export const DEFAULT_RIG_IMAGES = ['dockyard/sandbox:latest', 'dockyard-lib/busybox:latest'];

/** A run's folder until its owner is written in it. */
const STAGING = '.new-';
// Every rig's network is in namespaces of its own, so every rig can have the same addresses.
const SUBNET = '10.77.0';
const HUB = 'br0';
const ENGINE_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const netnsOf = (id: string, suffix: string) => `dy-${id}-${suffix}`;
const cgroupPrefix = (id: string) => `dockyard-rig-${id}-`;

interface Node extends RigNode {
  dir: string;
  log: string;
}

function nodeOf(id: string, n: number): Node {
  const name = `node${n}`;
  const dir = join(RIG_BASE, id, name);
  const socket = join(dir, 'docker.sock');
  return {
    name,
    addr: `${SUBNET}.${10 + n}`,
    socket,
    docker: dockerClient(socket),
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    cgroupParent: `/${cgroupPrefix(id)}${name}`,
    pluginDir: join(dir, 'plugins'),
    dir,
    netns: netnsOf(id, `n${n}`),
    log: join(dir, 'dockerd.log'),
  };
}

export async function startSwarmRig(opts: SwarmRigOptions = {}): Promise<SwarmRig> {
  const say = opts.log ?? (() => undefined);
  const started = Date.now();
  await cleanLeftoverRigs();
  const id = makeRunDir();
  const nodes = Array.from({ length: opts.nodes ?? 3 }, (_, i) => nodeOf(id, i + 1));
  const manager = nodes[0]!;
  const byName = (name: string) => {
    const node = nodes.find((n) => n.name === name);
    if (!node) throw new Error(`The rig has no node ${name}`);
    return node;
  };
  const close = async () => {
    const closing = Date.now();
    await removeRun(id);
    say(`rig ${id}: closed in ${seconds(Date.now() - closing)}`);
  };
  const waitNode = async (name: string, state: 'ready' | 'down', timeoutMs = 60_000) => {
    const since = Date.now();
    for (;;) {
      const node = await swarmNode(manager.docker, name).catch(() => undefined);
      if (node?.Status?.State === state) return Date.now() - since;
      if (Date.now() - since > timeoutMs)
        throw new Error(`${name} was not ${state} within ${timeoutMs} ms (last seen: ${node?.Status?.State})`);
      await sleep(100);
    }
  };
  const updateNode = async (name: string, change: (spec: Record<string, unknown>) => Record<string, unknown>) => {
    const node = await swarmNode(manager.docker, name);
    if (!node) throw new Error(`The manager does not know ${name}`);
    await manager.docker
      .getNode(node.ID)
      .update({ _query: { version: node.Version.Index }, _body: change(node.Spec) } as object);
  };

  try {
    say(`rig ${id}: ${nodes.length} nodes under ${join(RIG_BASE, id)}`);
    await makeNetwork(id, nodes);
    for (const node of nodes) {
      mkdirSync(node.dir, { mode: 0o711 });
      mkdirSync(node.pluginDir, { mode: 0o700 });
      writeFileSync(
        join(node.dir, 'daemon.json'),
        // Its own identity key: the default one is the host engine's, in /etc/docker.
        JSON.stringify({
          ...(opts.daemonConfig ?? DEFAULT_DAEMON_CONFIG),
          'deprecated-key-path': join(node.dir, 'key.json'),
        }),
      );
    }
    const up = nodes.map((node) =>
      step(node, 'starting its engine', () => timed(() => startEngine(node))).then((ms) =>
        say(`${node.name}: engine up in ${seconds(ms)}`),
      ),
    );
    const token = up[0]!.then(() => step(manager, 'initialising the swarm', () => initSwarm(manager)));
    const joined = nodes.slice(1).map((node, i) =>
      Promise.all([up[i + 1], token]).then(([, t]) =>
        step(node, 'joining the swarm', () =>
          node.docker.swarmJoin({
            ListenAddr: `${node.addr}:2377`,
            AdvertiseAddr: node.addr,
            RemoteAddrs: [`${manager.addr}:2377`],
            JoinToken: t,
          }),
        ),
      ),
    );
    const loaded = Promise.all(up).then(() => loadImages(opts.images ?? DEFAULT_RIG_IMAGES, nodes, say));
    // Everything settles before a failure is thrown, so that nothing still runs while the rig goes.
    await settled([...up, token, ...joined, loaded]);
    for (const [name, labels] of Object.entries(opts.labels ?? {}))
      await updateNode(byName(name).name, (spec) => ({ ...spec, Labels: { ...(spec.Labels as object), ...labels } }));
    await Promise.all(nodes.map((node) => waitNode(node.name, 'ready')));
    say(`rig ${id}: ready in ${seconds(Date.now() - started)}`);
  } catch (err) {
    await removeRun(id).catch((e: Error) => say(`rig ${id}: clean-up failed: ${e.message}`));
    throw err;
  }

  return {
    nodes,
    manager: manager.docker,
    async kill(name) {
      const node = byName(name);
      await killAll(() => processesOf([node.cgroupParent], [node.dir]), node.name);
      // What a power loss would not leave: pid files (one naming a reused pid would stop the engine
      // from starting again) and the shims' sockets.
      for (const file of [...pidFiles(node.dir), ...shimSockets(node.dir)]) rmSync(file, { force: true });
    },
    async restart(name) {
      const node = byName(name);
      opts.beforeRestart?.(node);
      await step(node, 'restarting its engine', () => startEngine(node));
      await waitNode(name, 'ready');
    },
    waitNode,
    availability: (name, value) => updateNode(byName(name).name, (spec) => ({ ...spec, Availability: value })),
    close,
  };
}

/** Removes what rigs of dead test runs left behind. Safe while another run's rig is live. */
export async function cleanLeftoverRigs(): Promise<void> {
  // A live run makes its folder (with its owner) before anything else and removes it last: a run
  // seen only by its namespaces or cgroups is a dead one.
  // Run folders only: the tests keep other things of theirs in RIG_BASE too.
  const runs = new Set(list(RIG_BASE).filter((name) => /^[0-9a-f]{6}$/.test(name) || name.startsWith(STAGING)));
  for (const ns of list('/run/netns')) runs.add(/^dy-([0-9a-f]{6})-/.exec(ns)?.[1] ?? '');
  for (const root of cgroupRoots())
    for (const cg of list(root)) runs.add(/^dockyard-rig-([0-9a-f]{6})-/.exec(cg)?.[1] ?? '');
  runs.delete('');
  for (const id of runs) if (!ownerAlive(id)) await removeRun(id);
}

/** A new run's folder, with its owner (this process) in it from the start. */
function makeRunDir(): string {
  mkdirSync(RIG_BASE, { recursive: true });
  mkdirSync('/run/docker/plugins', { recursive: true });
  const staging = mkdtempSync(join(RIG_BASE, STAGING));
  writeFileSync(join(staging, 'owner'), `${process.pid} ${startTime(process.pid)}\n`);
  // The engines' remapped roots pass through it to their data roots.
  chmodSync(staging, 0o711);
  const id = randomBytes(3).toString('hex');
  renameSync(staging, join(RIG_BASE, id));
  return id;
}

/** A living process's start time, which tells it from a later process that got the same pid. */
function startTime(pid: number): string | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const [state, ...fields] = stat?.slice(stat.lastIndexOf(')') + 2).split(' ') ?? [];
  // A killed test process stays a zombie until its parent collects it.
  return state === 'Z' || state === 'X' ? undefined : fields[18];
}

function ownerAlive(id: string): boolean {
  const [pid, start] = (read(join(RIG_BASE, id, 'owner')) ?? '').trim().split(' ');
  return !!pid && startTime(Number(pid)) === start;
}

async function makeNetwork(id: string, nodes: Node[]): Promise<void> {
  const hub = netnsOf(id, 'br');
  const ip = (ns: string, ...args: string[]) => mustRun(['ip', '-n', ns, ...args]);
  // One after the other: the first `ip netns add` on a machine sets up /run/netns.
  for (const ns of [hub, ...nodes.map((n) => n.netns)]) await mustRun(['ip', 'netns', 'add', ns]);
  await ip(hub, 'link', 'add', HUB, 'type', 'bridge');
  await ip(hub, 'link', 'set', HUB, 'up');
  await Promise.all(
    nodes.map(async (node) => {
      // Made from inside the hub's namespace, the veth's names never meet the host's.
      await ip(hub, 'link', 'add', node.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns);
      await ip(hub, 'link', 'set', node.name, 'master', HUB, 'up');
      await ip(node.netns, 'link', 'set', 'lo', 'up');
      await ip(node.netns, 'addr', 'add', `${node.addr}/24`, 'dev', 'eth0');
      await ip(node.netns, 'link', 'set', 'eth0', 'up');
    }),
  );
}

/** Run as the node's first process: its cgroup, hostname and plugins folder, then dockerd. */
const NODE_INIT =
  'echo $$ > "$1/cgroup.procs" && hostname "$2" && mount --bind "$3" /run/docker/plugins && shift 3 && exec "$@"';

/** Starts the node's engine and waits until it answers. */
async function startEngine(node: Node): Promise<void> {
  // The engine goes into a cgroup of the node's before it starts, and its containerd and shims
  // with it: the node's processes are found there, never by name (the host's engine has the same).
  const cgroup = join(trackingRoot(), node.cgroupParent, 'engine');
  mkdirSync(cgroup, { recursive: true });
  // iptables stays on (the default): each engine writes its rules in its own namespace.
  const args = [
    ...['--config-file', join(node.dir, 'daemon.json')],
    ...['--data-root', node.dataRoot, '--exec-root', node.execRoot, '--pidfile', join(node.dir, 'dockerd.pid')],
    ...['-H', `unix://${node.socket}`, '--cgroup-parent', node.cgroupParent],
  ];
  const log = openSync(node.log, 'a');
  // nsenter rather than `ip netns exec`, which mounts a /sys of its own without the cgroups.
  const engine = spawn(
    'nsenter',
    [
      `--net=/run/netns/${node.netns}`,
      // Its own mount namespace, as a host has: its mounts go with it, and it finds volume plugins
      // in a /run/docker/plugins of its own (an engine keeps asking a plugin it once used, for 15 s
      // a call, after it is gone: no engine but this node's may ever see this node's plugins).
      ...['unshare', '--uts', '--mount', '--propagation', 'slave', 'sh', '-c', NODE_INIT],
      ...['sh', cgroup, node.name, node.pluginDir, 'dockerd', ...args],
    ],
    {
      detached: true,
      stdio: ['ignore', log, log],
      // Swarm tasks use the image loaded on the node rather than fail to pull it (no registry).
      env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
    },
  );
  closeSync(log);
  engine.unref();
  let failed: Error | undefined;
  engine.once('error', (e) => (failed = e));
  const deadline = Date.now() + ENGINE_TIMEOUT_MS;
  while (
    !(await node.docker.ping().then(
      () => true,
      () => false,
    ))
  ) {
    if (failed) throw failed;
    if (engine.exitCode !== null || engine.signalCode !== null)
      throw new Error(`dockerd exited (${engine.exitCode ?? engine.signalCode})`);
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within ${seconds(ENGINE_TIMEOUT_MS)}`);
    await sleep(100);
  }
}

/** Makes the node the swarm's manager; returns the workers' join token. */
async function initSwarm(node: Node): Promise<string> {
  await node.docker.swarmInit({
    ListenAddr: `${node.addr}:2377`,
    AdvertiseAddr: node.addr,
    // A node that stops answering is Down after about 4 s rather than 13.
    Spec: { Dispatcher: { HeartbeatPeriod: 1e9 } },
  });
  return ((await node.docker.swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
}

interface SwarmNode {
  ID: string;
  Version: { Index: number };
  Spec: Record<string, unknown>;
  Description?: { Hostname?: string };
  Status?: { State?: string };
}

async function swarmNode(manager: Docker, name: string): Promise<SwarmNode | undefined> {
  return ((await manager.listNodes()) as SwarmNode[]).find((n) => n.Description?.Hostname === name);
}

/**
 * Streams one `docker save` from the host's engine into a `docker load` on every node (there is no
 * registry): the loads go along with the save rather than after it, which takes tens of seconds
 * for the sandbox image on a busy host.
 */
async function loadImages(images: string[], nodes: Node[], say: (line: string) => void): Promise<void> {
  const started = Date.now();
  const saveCmd = ['docker', 'save', ...images];
  const save = spawn(saveCmd[0]!, saveCmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const loads = nodes.map((node) => {
    const cmd = ['docker', '-H', `unix://${node.socket}`, 'load', '-q'];
    const load = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    // A load that fails stops reading: its exit says why.
    load.stdin!.on('error', () => undefined);
    save.stdout!.pipe(load.stdin!);
    return step(node, 'loading images', () => finished(load, cmd)).then(
      () => say(`${node.name}: images loaded in ${seconds(Date.now() - started)}`),
      (err: Error) => {
        // Left with fewer readers the save would go on, and with none it would wait forever.
        save.kill();
        throw err;
      },
    );
  });
  await settled([finished(save, saveCmd), ...loads]);
}

/** Resolves when the child exits 0, else rejects with the end of its stderr (as mustRun does). */
function finished(child: ChildProcess, cmd: string[]): Promise<void> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(new CommandError(cmd, { code: code ?? (signal ? 128 : 1), stdout: '', stderr })),
    );
  });
}

/** Runs a step of a node's start; its failure names the node, the step and the end of the node's log. */
async function step<T>(node: Node, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const tail = (read(node.log) ?? '')
      .trimEnd()
      .split('\n')
      .filter((line) => !line.includes('module=grpc')) // connection chatter, a lot of it
      .slice(-20)
      .join('\n');
    throw new Error(`Swarm rig ${node.name}: ${what} failed: ${(err as Error).message}\n${node.log} ends:\n${tail}`, {
      cause: err,
    });
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

/** Waits for all; then throws the failures, each once (a node's failure fails the steps after it too). */
async function settled(work: Promise<unknown>[]): Promise<void> {
  const failures = new Set(
    (await Promise.allSettled(work)).flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : [])),
  );
  if (failures.size === 1) throw [...failures][0];
  if (failures.size > 1) throw new Error([...failures].map((e) => e.message).join('\n\n'));
}

/** Everything a run left: its processes, mounts, cgroups, namespaces, then its folder. */
async function removeRun(id: string): Promise<void> {
  const dir = join(RIG_BASE, id);
  const cgroups = [
    ...new Set(cgroupRoots().flatMap((root) => list(root).filter((cg) => cg.startsWith(cgroupPrefix(id))))),
  ].map((cg) => `/${cg}`);
  const nodeDirs = list(dir)
    .filter((name) => name.startsWith('node'))
    .map((name) => join(dir, name));
  await killAll(() => processesOf(cgroups, nodeDirs), `rig ${id}`);
  for (const socket of nodeDirs.flatMap(shimSockets)) rmSync(socket, { force: true });
  await unmountUnder(dir);
  await removeCgroups(cgroups);
  const namespaces = () => list('/run/netns').filter((ns) => ns.startsWith(netnsOf(id, '')));
  for (const ns of namespaces()) await run(['ip', 'netns', 'delete', ns]);
  if (namespaces().length) throw new Error(`rig ${id}: namespaces ${namespaces().join(' ')} would not go`);
  // The nodes' image layers are gigabytes of small files: their folders go side by side.
  await Promise.all(nodeDirs.map((node) => rm(node, { recursive: true, force: true })));
  await rm(dir, { recursive: true, force: true });
}

/**
 * The processes in these cgroups (under every hierarchy, the engine's and the containers') and the
 * ones the nodes' pid files name, when they are still the nodes' (their command line names the folder).
 */
function processesOf(cgroups: string[], nodeDirs: string[]): number[] {
  const pids = new Set<number>();
  for (const root of cgroupRoots())
    for (const cg of cgroups)
      for (const dir of tree(join(root, cg)))
        for (const pid of (read(join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) pids.add(Number(pid));
  for (const dir of nodeDirs)
    for (const file of pidFiles(dir)) {
      const pid = Number(read(file)?.trim());
      if (pid && read(`/proc/${pid}/cmdline`)?.includes(`${dir}/`)) pids.add(pid);
    }
  return [...pids];
}

const pidFiles = (nodeDir: string) => [
  join(nodeDir, 'dockerd.pid'),
  join(nodeDir, 'exec', 'containerd', 'containerd.pid'),
];

/**
 * The sockets of the node's containerd-shims, one a container. They are in the host's
 * /run/containerd/s, named by a hash of the containerd's address and the container, and a killed
 * shim leaves its socket there.
 */
function shimSockets(nodeDir: string): string[] {
  const containerd = join(nodeDir, 'exec', 'containerd');
  return list(join(containerd, 'daemon', 'io.containerd.runtime.v2.task', 'moby')).map((container) => {
    const hash = createHash('sha256').update(join(containerd, 'containerd.sock', 'moby', container));
    return join('/run/containerd/s', hash.digest('hex'));
  });
}

/** SIGKILLs the processes until none is left (one may fork while the others die). */
async function killAll(find: () => number[], what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let pids = find(); pids.length; pids = find()) {
    if (Date.now() > deadline) throw new Error(`${what}: processes ${pids.join(' ')} outlived SIGKILL for 30 s`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await sleep(50);
  }
}

/**
 * Unmounts everything under `dir`, deepest first: a killed engine leaves its data root bound on
 * itself, its containers' overlays and its network namespaces' files.
 */
async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; ; round++) {
    const left = mountsUnder(dir);
    if (left.length === 0) return;
    if (round === 3) throw new Error(`Mounts under ${dir} would not go:\n${left.join('\n')}`);
    // A busy one goes lazily: it stays for who still uses it, but leaves the folder.
    await run(['umount', ...(round > 0 ? ['-l'] : []), ...left]);
  }
}

/** Mount points at or under `dir`, deepest and latest first. */
function mountsUnder(dir: string): string[] {
  return mountPoints()
    .filter((m) => m.point === dir || m.point.startsWith(`${dir}/`))
    .map((m) => m.point)
    .reverse()
    .sort((a, b) => b.split('/').length - a.split('/').length);
}

interface Mount {
  point: string;
  type: string;
  options: string[];
}

function mountPoints(): Mount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const [type = '', , options = ''] = right.split(' ');
      const point = (left.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(parseInt(o, 8)),
      );
      return { point, type, options: options.split(',') };
    });
}

/** Every mounted cgroup hierarchy (v1 controllers, named ones, v2). */
function cgroupRoots(): string[] {
  return mountPoints()
    .filter((m) => m.type === 'cgroup' || m.type === 'cgroup2')
    .map((m) => m.point);
}

/** The hierarchy the engines are placed in: v1's pids controller, or the v2 one. */
function trackingRoot(): string {
  const mounts = mountPoints();
  const root = (
    mounts.find((m) => m.type === 'cgroup' && m.options.includes('pids')) ?? mounts.find((m) => m.type === 'cgroup2')
  )?.point;
  if (!root) throw new Error('No cgroup hierarchy to place the engines in');
  return root;
}

/** Removes the cgroups under every hierarchy, deepest first; their processes are gone already. */
async function removeCgroups(cgroups: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const root of cgroupRoots())
    for (const cg of cgroups)
      for (const dir of tree(join(root, cg)).reverse())
        // A cgroup is busy for a moment after its last process died.
        for (;;) {
          try {
            rmdirSync(dir);
            break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
            if (Date.now() > deadline) throw err;
            await sleep(50);
          }
        }
}

/** A folder and the folders under it, parents first; none when it does not exist. */
function tree(dir: string): string[] {
  const entries = (() => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return undefined;
    }
  })();
  if (!entries) return [];
  return [dir, ...entries.filter((e) => e.isDirectory()).flatMap((e) => tree(join(dir, e.name)))];
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
