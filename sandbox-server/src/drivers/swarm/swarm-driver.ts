// The `swarm` driver: each sandbox is a one-task Swarm service, and Swarm decides which sandbox host
// runs it (by the hosts' labels, availability, health and free memory): Dockyard schedules nothing
// itself. Managers do not relay commands to other nodes, so everything inside a sandbox (commands,
// terminals, the wait for its inner engine) goes to the engine of the node that runs it, found
// from the service's task. The host's own part (disk, cgroups, neighbours) is done on each host by
// its host agent (host-agent/), which marks the sandbox when it is done.
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type {
  ExecOptions,
  ExecResult,
  LostSandbox,
  PeerNetwork,
  Sandbox,
  SandboxDriver,
  SandboxKernel,
  SandboxSpec,
  TerminalOptions,
  TerminalStream,
  Watch,
} from '../driver.ts';
import { ApiError } from '../../errors.ts';
import { SandboxContainers } from '../docker/sandbox-containers.ts';
import { DISK_MOUNTS, type DiskFolder } from '../docker/sandbox-disk.ts';
import { containerName, SANDBOX_LABEL } from '../docker/sandbox-options.ts';
import { createPeerNetwork, joinPeerNetwork, listPeerNetworks, removePeerNetwork } from '../docker/peer-network.ts';
import { HOST_READY_FILE } from '../docker/host-part.ts';
import { diskVolumeName, SANDBOX_HOST_LABEL, sandboxServiceSpec, type ServicePlacement } from './service-spec.ts';

/** A node of the Swarm as its manager reports it. */
export interface SwarmNode {
  id: string;
  hostname: string;
  /** The address the node's engine is reached at (its Swarm address). */
  addr: string;
}

export interface SwarmDriverOptions extends Partial<ServicePlacement> {
  /** The engine API of a node: TLS on its address in a deployment, its socket in the test rig. */
  nodeEngine: (node: SwarmNode) => Docker;
  /** How long a new sandbox's inner engine may take to answer, in ms. */
  readyTimeoutMs?: number;
  /** How long Swarm may take to start a sandbox's task before the create gives up, in ms. */
  placeTimeoutMs?: number;
}

interface Placed {
  node: SwarmNode;
  containerId: string;
}

interface Task {
  ID: string;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string } };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
}

interface NodeInfo {
  ID: string;
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string; Message?: string };
}

/** Node states of a host that stopped answering its manager (its heartbeats stopped). */
const UNREACHABLE = new Set(['down', 'disconnected']);

/** Task states from which a task never runs (again). */
const ENDED = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

/** How many hosts may refuse a sandbox before its creation gives up. */
const MAX_REFUSALS = 2;

/** A host's engine could not start the sandbox's task (its image missing there, its network not remade yet). */
class RefusedByHost extends Error {
  readonly nodeId: string;
  constructor(message: string, nodeId: string) {
    super(message);
    this.nodeId = nodeId;
  }
}

const status = (err: unknown) => (err as { statusCode?: number }).statusCode ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SwarmDriver implements SandboxDriver {
  readonly name = 'swarm';
  readonly spread = true;
  /** The labels each peer network is to be made with, at its first join (createPeerNetwork's). */
  readonly #peerLabels = new Map<string, Record<string, string>>();
  readonly #manager: Docker;
  readonly #opts: Required<Omit<SwarmDriverOptions, 'image' | 'constraints'>> & SwarmDriverOptions;
  /** Where each sandbox runs, once looked up: a sandbox never moves (its task is never restarted). */
  readonly #placed = new Map<string, Placed>();
  /** Per node: its engine, and commands and terminals in the sandboxes on it. */
  readonly #nodes = new Map<string, { engine: Docker; in: SandboxContainers }>();

  constructor(manager: Docker, opts: SwarmDriverOptions) {
    this.#manager = manager;
    this.#opts = { readyTimeoutMs: 30_000, placeTimeoutMs: 60_000, viewBinds: [], ...opts };
  }

  /** The sandbox hosts the manager reports ready: labelled for sandboxes, and answering it. */
  async #sandboxHosts(): Promise<SwarmNode[]> {
    const nodes = (await this.#manager.listNodes({
      filters: JSON.stringify({ 'node.label': [`${SANDBOX_HOST_LABEL}=true`] }),
    })) as NodeInfo[];
    return nodes
      .filter((n) => n.Status?.State === 'ready')
      .map((n) => ({ id: n.ID, hostname: n.Description?.Hostname ?? n.ID, addr: n.Status?.Addr ?? '' }));
  }

  /** Start-up check: the engine is a Swarm manager, and the Swarm has a sandbox host that is ready. */
  async checkRuntime(): Promise<void> {
    const info = (await this.#manager.info()) as { Swarm?: { ControlAvailable?: boolean; LocalNodeState?: string } };
    if (!info.Swarm?.ControlAvailable)
      throw new ApiError(
        'SWARM_NOT_READY',
        `The engine at DOCKYARD_DOCKER_SOCKET is not a Swarm manager (its Swarm state: ${info.Swarm?.LocalNodeState || 'none'}).`,
      );
    if ((await this.#sandboxHosts()).length === 0)
      throw new ApiError('SWARM_NOT_READY', `No host labelled ${SANDBOX_HOST_LABEL}=true is ready.`);
  }

  /**
   * Start-up check of each ready sandbox host: its engine answers, and runs containers in user
   * namespaces (unless the opt-in allows otherwise), as the docker driver checks its one engine.
   */
  async checkIsolation(allowNoUserns: boolean): Promise<void> {
    for (const host of await this.#sandboxHosts()) {
      const info = (await this.#node(host)
        .engine.info()
        .catch((err: Error) => {
          throw new ApiError(
            'SWARM_NOT_READY',
            `The engine of sandbox host ${host.hostname} does not answer: ${err.message}`,
          );
        })) as { SecurityOptions?: string[] };
      if (allowNoUserns || (info.SecurityOptions ?? []).some((o) => o.includes('name=userns'))) continue;
      throw new ApiError(
        'ENGINE_WITHOUT_USERNS',
        `The engine of sandbox host ${host.hostname} runs containers without user namespaces, so root in a learner's sandbox would be root on that host.`,
      );
    }
  }

  kernel(): Promise<SandboxKernel> {
    return Promise.resolve('host');
  }

  #node(node: SwarmNode): { engine: Docker; in: SandboxContainers } {
    let known = this.#nodes.get(node.id);
    if (!known) {
      const engine = this.#opts.nodeEngine(node);
      known = {
        engine,
        in: new SandboxContainers(engine, {
          locate: (id) => this.#placed.get(id)?.containerId ?? containerName(id),
          gvisor: () => Promise.resolve(false),
          readyTimeoutMs: this.#opts.readyTimeoutMs,
          readyFile: HOST_READY_FILE,
        }),
      };
      this.#nodes.set(node.id, known);
    }
    return known;
  }

  async #nodeInfo(nodeId: string): Promise<NodeInfo> {
    return (await this.#manager.getNode(nodeId).inspect()) as NodeInfo;
  }

  async #swarmNode(nodeId: string): Promise<SwarmNode> {
    const info = await this.#nodeInfo(nodeId);
    return { id: nodeId, hostname: info.Description?.Hostname ?? nodeId, addr: info.Status?.Addr ?? '' };
  }

  async #tasks(sandboxId: string): Promise<Task[]> {
    return (await this.#manager.listTasks({ filters: { service: [containerName(sandboxId)] } })) as Task[];
  }

  /** The node and container of a running sandbox; throws when it has none running. */
  async #where(sandboxId: string): Promise<Placed> {
    const known = this.#placed.get(sandboxId);
    if (known) return known;
    const task = (await this.#tasks(sandboxId)).find(
      (t) => t.Status?.State === 'running' && t.NodeID && t.Status.ContainerStatus?.ContainerID,
    );
    if (!task) throw new Error(`Sandbox ${sandboxId} is not running on any node`);
    return this.#remember(sandboxId, await this.#swarmNode(task.NodeID!), task.Status!.ContainerStatus!.ContainerID!);
  }

  #remember(sandboxId: string, node: SwarmNode, containerId: string): Placed {
    const placed = { node, containerId };
    this.#placed.set(sandboxId, placed);
    return placed;
  }

  async #in(sandboxId: string): Promise<SandboxContainers> {
    return this.#node((await this.#where(sandboxId)).node).in;
  }

  /**
   * Waits for Swarm to start the sandbox's task; says why when it cannot. Once the task has its node,
   * that node's engine says when the container runs, sooner than the manager hears of it.
   */
  async #placement(sandboxId: string): Promise<Placed> {
    const deadline = Date.now() + this.#opts.placeTimeoutMs;
    let last: Task | undefined;
    let node: SwarmNode | undefined;
    while (Date.now() < deadline) {
      const tasks = await this.#tasks(sandboxId);
      last = tasks[0];
      const ended = tasks.find((t) => ENDED.has(t.Status?.State ?? ''));
      if (ended) {
        const why = `Swarm could not start the sandbox: ${ended.Status?.Err ?? ended.Status?.State}`;
        throw ended.NodeID ? new RefusedByHost(why, ended.NodeID) : new Error(why);
      }
      // Swarm says at once when no host has the memory left; it would wait for one to free up.
      if (/insufficient resources/i.test(last?.Status?.Err ?? ''))
        throw new ApiError(
          'OUT_OF_CAPACITY',
          `No sandbox host has room for another sandbox (Swarm: ${last!.Status!.Err}).`,
        );
      if (last?.NodeID && !node) node = await this.#swarmNode(last.NodeID);
      const running = node
        ? await this.#node(node).engine.listContainers({
            filters: { label: [`${SANDBOX_LABEL}=${sandboxId}`], status: ['running'] },
          })
        : [];
      if (node && running[0]) return this.#remember(sandboxId, node, running[0].Id);
      await sleep(50);
    }
    const why = last?.Status?.Err ?? last?.Status?.Message ?? 'no task';
    throw new Error(`Swarm did not start the sandbox within ${this.#opts.placeTimeoutMs} ms (its task: ${why})`);
  }

  /**
   * Makes the sandbox's service. A host whose engine refuses it (Swarm does not place a task of
   * restart none again) is left out, and Swarm places the sandbox once more among the others: a
   * host just back, before its agent has remade its part of the network, or without the image.
   */
  async create(spec: SandboxSpec): Promise<Sandbox> {
    const refusedBy: string[] = [];
    for (;;) {
      try {
        return await this.#createOnce(spec, refusedBy);
      } catch (err) {
        await this.remove(spec.id).catch(() => undefined);
        // A session's later node must run on its first node's host: no other host will do.
        if (!(err instanceof RefusedByHost) || spec.near) throw err;
        refusedBy.push(err.nodeId);
        if (refusedBy.length >= MAX_REFUSALS) throw err;
        const others = (await this.#sandboxHosts()).filter((h) => !refusedBy.includes(h.id));
        if (others.length === 0) throw err;
      }
    }
  }

  async #createOnce(spec: SandboxSpec, refusedBy: readonly string[]): Promise<Sandbox> {
    const service = await this.#manager.createService(
      sandboxServiceSpec(spec, {
        viewBinds: this.#opts.viewBinds,
        ...(this.#opts.image ? { image: this.#opts.image } : {}),
        constraints: [
          ...(this.#opts.constraints ?? []),
          // Beside the session's first node, where their network is.
          ...(spec.near ? [`node.id == ${(await this.#where(spec.near)).node.id}`] : []),
          ...refusedBy.map((id) => `node.id != ${id}`),
        ],
      }),
    );
    const placed = await this.#placement(spec.id);
    await this.#node(placed.node).in.waitReady(spec.id);
    const info = (await service.inspect()) as {
      ID: string;
      CreatedAt: string;
      Spec: { Labels?: Record<string, string> };
    };
    return { id: spec.id, ref: info.ID, createdAt: new Date(info.CreatedAt), labels: info.Spec.Labels ?? {} };
  }

  async exec(sandboxId: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return (await this.#in(sandboxId)).exec(sandboxId, cmd, opts);
  }

  async watch(sandboxId: string, cmd: string[], onLine: (line: string) => void): Promise<Watch> {
    return (await this.#in(sandboxId)).watch(sandboxId, cmd, onLine);
  }

  /** Through a relay in the sandbox: its address is on its host's bridge, which this server may not reach. */
  async connect(sandboxId: string, port: number): Promise<Duplex> {
    return (await this.#in(sandboxId)).relay(sandboxId, port);
  }

  async openTerminal(sandboxId: string, name: string, opts: TerminalOptions): Promise<TerminalStream> {
    return (await this.#in(sandboxId)).openTerminal(sandboxId, name, opts);
  }

  async watchTerminal(sandboxId: string, name: string): Promise<TerminalStream> {
    return (await this.#in(sandboxId)).watchTerminal(sandboxId, name);
  }

  async terminals(sandboxId: string): Promise<string[]> {
    return (await this.#in(sandboxId)).terminals(sandboxId);
  }

  async list(): Promise<Sandbox[]> {
    const services = (await this.#manager.listServices({ filters: { label: [SANDBOX_LABEL] } })) as {
      ID: string;
      CreatedAt: string;
      Spec: { Labels?: Record<string, string> };
    }[];
    return services.map((s) => ({
      id: s.Spec.Labels?.[SANDBOX_LABEL] ?? '',
      ref: s.ID,
      createdAt: new Date(s.CreatedAt),
      labels: s.Spec.Labels ?? {},
    }));
  }

  /**
   * Removes the service; its node's engine then removes the container. The disk's volumes are
   * removed on that node once the container is gone (the plugin then deletes the disk). A node that
   * is down keeps them until its host agent finds them abandoned.
   */
  async remove(sandboxId: string): Promise<void> {
    const placed = await this.#where(sandboxId).catch(() => undefined);
    this.#placed.delete(sandboxId);
    try {
      await this.#manager.getService(containerName(sandboxId)).remove();
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
    if (!placed) return;
    // A host that stopped answering is not waited for: when it returns, its engine removes the
    // container (the service is gone) and its host agent the volumes nothing uses.
    const state = (await this.#nodeInfo(placed.node.id).catch(() => undefined))?.Status?.State;
    if (!state || UNREACHABLE.has(state)) return;
    const { engine } = this.#node(placed.node);
    for (const start = Date.now(); Date.now() - start < 30_000; await sleep(100)) {
      const left = await engine.listContainers({ all: true, filters: { label: [`${SANDBOX_LABEL}=${sandboxId}`] } });
      if (left.length === 0) break;
    }
    await Promise.all(
      Object.keys(DISK_MOUNTS).map((folder) =>
        engine
          .getVolume(diskVolumeName(sandboxId, folder as DiskFolder))
          .remove()
          .catch((err: unknown) => {
            if (status(err) !== 404) throw err;
          }),
      ),
    );
  }

  /**
   * Sandboxes whose host the manager reports down (its heartbeats stopped, after about three of
   * their periods), and those whose task ended (the sandbox stopped: it is never restarted).
   */
  async lost(): Promise<LostSandbox[]> {
    const [nodes, tasks] = await Promise.all([
      this.#manager.listNodes() as Promise<NodeInfo[]>,
      // Every task: the filter by label looks at the task's own labels, not its container's.
      this.#manager.listTasks() as Promise<Task[]>,
    ]);
    const unreachable = new Map(nodes.filter((n) => UNREACHABLE.has(n.Status?.State ?? '')).map((n) => [n.ID, n]));
    const lost: LostSandbox[] = [];
    for (const t of tasks) {
      const id = t.Spec?.ContainerSpec?.Labels?.[SANDBOX_LABEL];
      // A task whose service was removed ends on purpose (a sandbox removed, a session reset).
      if (!id || t.DesiredState === 'remove') continue;
      const node = t.NodeID ? unreachable.get(t.NodeID) : undefined;
      const state = t.Status?.State ?? '';
      if (node) {
        const host = node.Description?.Hostname ?? node.ID;
        lost.push({
          id,
          why: `its host ${host} is ${node.Status!.State!}${node.Status?.Message ? ` (${node.Status.Message})` : ''}`,
        });
      } else if (ENDED.has(state))
        lost.push({ id, why: `its task is ${state}${t.Status?.Err ? `: ${t.Status.Err}` : ''}` });
    }
    return lost;
  }

  /**
   * Nothing yet: a session's nodes all run on its first node's host (each is made `near` it), and
   * their network is a bridge there, made at the first join, as the docker driver makes it on its
   * host. Overlay networks were tried first: Engine 20.10 connects a running container to one only
   * on a host that already runs something on it, and an internal one carried nothing between this
   * machine's test hosts. The labels are kept for that first join.
   */
  createPeerNetwork(networkId: string, labels: Record<string, string> = {}): Promise<void> {
    this.#peerLabels.set(networkId, labels);
    return Promise.resolve();
  }

  /** On the sandbox's host: the network is made there at the first join, and must not be anywhere else. */
  async joinPeerNetwork(networkId: string, sandboxId: string, name: string): Promise<void> {
    const placed = await this.#where(sandboxId);
    const elsewhere = (await this.#hostsWithPeerNetwork(networkId)).filter((h) => h.id !== placed.node.id);
    if (elsewhere.length > 0)
      throw new Error(
        `${sandboxId} runs on ${placed.node.hostname}, and its session's network is on ${elsewhere[0]!.hostname}: it was not made near the session's first node`,
      );
    const { engine } = this.#node(placed.node);
    await createPeerNetwork(engine, networkId, this.#peerLabels.get(networkId));
    await joinPeerNetwork(engine, networkId, placed.containerId, name);
  }

  async removePeerNetwork(networkId: string): Promise<void> {
    this.#peerLabels.delete(networkId);
    for (const host of await this.#hostsWithPeerNetwork(networkId))
      await removePeerNetwork(this.#node(host).engine, networkId);
  }

  /** The peer networks on every sandbox host that answers. */
  async listPeerNetworks(): Promise<PeerNetwork[]> {
    const found = new Map<string, PeerNetwork>();
    for (const host of await this.#sandboxHosts())
      for (const n of await listPeerNetworks(this.#node(host).engine)) found.set(n.id, n);
    return [...found.values()];
  }

  /** The sandbox hosts (that answer) on which the peer network exists. */
  async #hostsWithPeerNetwork(networkId: string): Promise<SwarmNode[]> {
    const hosts: SwarmNode[] = [];
    for (const host of await this.#sandboxHosts())
      if ((await listPeerNetworks(this.#node(host).engine)).some((n) => n.id === networkId)) hosts.push(host);
    return hosts;
  }
}
