// The `docker` driver: sandboxes are containers on the local Docker Engine, via dockerode.
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type {
  ExecOptions,
  LostSandbox,
  PeerNetwork,
  ExecResult,
  Sandbox,
  SandboxDriver,
  SandboxKernel,
  SandboxSpec,
  TerminalOptions,
  TerminalStream,
  Watch,
} from '../driver.ts';
import { ApiError } from '../../errors.ts';
import { engineRemappedRoot } from './cgroup-delegation.ts';
import { tcpConnect } from './port-relay.ts';
import { DEFAULT_DISK_RESERVE_BYTES, SandboxDisks } from './sandbox-disk.ts';
import { containerName, SANDBOX_LABEL, sandboxCreateOptions } from './sandbox-options.ts';
import { SandboxContainers } from './sandbox-containers.ts';
import { closedAncestor, openOwnFolders, isGvisor, withGvisor, type GvisorPlacement } from './gvisor.ts';
import { resourceViewBinds } from './resource-views.ts';
import { prepareOnHost } from './host-part.ts';
import { createPeerNetwork, joinPeerNetwork, listPeerNetworks, removePeerNetwork } from './peer-network.ts';
import { MIRROR_CONTAINER, SANDBOX_NETWORK } from '../../../../images/platform.ts';
import { killLeftovers } from '../../../../infra/setup/lib/leftovers.ts';

export interface DockerDriverOptions {
  /** How long a new sandbox's inner engine may take to answer, in ms. */
  readyTimeoutMs?: number;
  /** The sandbox image (defaults to the one the image builder makes). */
  image?: string;
  /** Where the sandboxes' disk files and mount points live. */
  diskDir?: string;
  /** Free space on the disks' volume that no sandbox disk may be promised. */
  diskReserveBytes?: number;
  /** The engine's OCI runtime for sandboxes. */
  runtime?: string;
}

const MiB = 2 ** 20;
const PROBE_LIMITS = { memoryBytes: 512 * MiB, cpus: 1, pids: 256, storageBytes: 512 * MiB };

/** Default disk folder, for drivers made outside a server (tests, benchmarks). */
export const DEFAULT_DISK_DIR = '/var/lib/dockyard/disks';
/** A disk with no container for this long was left by a crash between the two steps of create. */
const ORPHAN_DISK_AGE_MS = 10 * 60_000;

/** 404: already gone; 409: Docker is removing it already. Either way it will not be there. */
const isGoneOrGoing = (err: unknown) => [404, 409].includes((err as { statusCode?: number }).statusCode ?? 0);

export class DockerDriver implements SandboxDriver {
  readonly name = 'docker';
  readonly spread = false;
  readonly #docker: Docker;
  readonly #opts: Required<Omit<DockerDriverOptions, 'image'>> & { image?: string };
  readonly disks: SandboxDisks;
  /** Commands, terminals and the rest inside its sandboxes. */
  readonly #in: SandboxContainers;
  #userns: Promise<number | undefined> | undefined;
  #gvisor: Promise<boolean> | undefined;

  constructor(docker: Docker, opts: DockerDriverOptions = {}) {
    this.#docker = docker;
    this.#opts = {
      readyTimeoutMs: 30_000,
      diskDir: DEFAULT_DISK_DIR,
      diskReserveBytes: DEFAULT_DISK_RESERVE_BYTES,
      runtime: 'runc',
      ...opts,
    };
    this.disks = new SandboxDisks(this.#opts.diskDir, this.#opts.diskReserveBytes);
    this.#in = new SandboxContainers(docker, {
      locate: containerName,
      gvisor: () => this.#isGvisor(),
      readyTimeoutMs: this.#opts.readyTimeoutMs,
    });
  }

  get runtime(): string {
    return this.#opts.runtime;
  }

  /** The host uid of sandbox root when the engine remaps user namespaces, else undefined. */
  #remappedRoot(): Promise<number | undefined> {
    this.#userns ??= engineRemappedRoot(this.#docker);
    return this.#userns;
  }

  async kernel(): Promise<SandboxKernel> {
    return (await this.#isGvisor()) ? 'gvisor' : 'host';
  }

  /** Whether sandboxes run under gVisor: the runtime's name or the binary the engine has for it. */
  #isGvisor(): Promise<boolean> {
    this.#gvisor ??= (async () => {
      if (this.#opts.runtime === 'runc') return false;
      const info = (await this.#docker.info()) as { Runtimes?: Record<string, { path?: string }> };
      return isGvisor(this.#opts.runtime, info.Runtimes?.[this.#opts.runtime]?.path);
    })();
    return this.#gvisor;
  }

  /** What a gVisor sandbox needs to know at creation (gvisor.ts). */
  async #gvisorPlacement(): Promise<GvisorPlacement> {
    const mirror = await this.#docker.getContainer(MIRROR_CONTAINER).inspect();
    const mirrorIp = mirror.NetworkSettings.Networks[SANDBOX_NETWORK]?.IPAddress;
    if (!mirrorIp) throw new Error(`The mirror (${MIRROR_CONTAINER}) has no address on ${SANDBOX_NETWORK}`);
    return { mirrorIp };
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    const uid = await this.#remappedRoot();
    let containerId: string | undefined;
    try {
      const runcOptions = sandboxCreateOptions(spec, {
        diskBinds: this.disks.binds(this.disks.mountPoint(spec.id)),
        viewBinds: resourceViewBinds(),
        runtime: this.#opts.runtime,
        ...(this.#opts.image ? { image: this.#opts.image } : {}),
      });
      const options = (await this.#isGvisor())
        ? withGvisor(runcOptions, spec.limits.memoryBytes, spec.limits.storageBytes, await this.#gvisorPlacement())
        : runcOptions;
      // The disk and the container are made at once: the engine needs the binds' folders only at
      // start. Both are waited for, so a failure of one never leaves the other unaccounted for.
      const [disk, made] = await Promise.allSettled([
        this.disks.create(spec.id, spec.limits.storageBytes, uid ?? 0),
        this.#docker.createContainer(options),
      ]);
      if (made.status === 'fulfilled') containerId = made.value.id;
      if (disk.status === 'rejected') throw disk.reason;
      if (made.status === 'rejected') throw made.reason;
      const container = made.value;
      await container.start();
      // The wait for the inner engine starts at once; the host's part below runs beside it.
      const ready = this.#in.waitReady(spec.id);
      ready.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
      const info = await container.inspect();
      const pid = info.State.Pid;
      // The host's part (host-part.ts) runs beside the wait for the inner engine, which needs none of
      // it to answer; both are done before the learner's first command.
      await Promise.all([ready, prepareOnHost(this.#docker, { pid, uid, pids: spec.limits.pids })]);
      return { id: spec.id, ref: info.Id, createdAt: new Date(info.Created), labels: info.Config.Labels ?? {} };
    } catch (err) {
      await this.#removeContainer(spec.id).catch(() => undefined);
      // Debian's runsc leaves its sandbox and gofer processes behind when a start fails, holding the
      // sandbox's disk. Nothing else runs with this container's id in its command line.
      if (containerId) await killLeftovers(containerId);
      await this.disks.remove(spec.id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Start-up check of the isolation docs/security.md promises: sandbox root must be an unprivileged
   * host uid, which takes an engine with user namespaces. Without them it refuses, unless the
   * operator opted in knowing what that means.
   */
  async checkIsolation(allowNoUserns: boolean): Promise<void> {
    if ((await this.#remappedRoot()) !== undefined || allowNoUserns) return;
    throw new ApiError(
      'ENGINE_WITHOUT_USERNS',
      "This engine runs containers without user namespaces, so root in a learner's sandbox would be root on this host, held back only by capabilities and seccomp.",
    );
  }

  /**
   * Start-up check of the runtime setting: the engine must know the runtime, and a sandbox on any
   * runtime but runc (which every engine has and the test suite covers) must start its inner engine.
   */
  async checkRuntime(): Promise<void> {
    const { runtime } = this.#opts;
    const info = (await this.#docker.info()) as { Runtimes?: Record<string, { path?: string }> };
    const known = Object.keys(info.Runtimes ?? {});
    if (!known.includes(runtime)) {
      throw new ApiError(
        'RUNTIME_UNKNOWN',
        `DOCKYARD_SANDBOX_RUNTIME is "${runtime}"; the engine knows ${known.join(', ')}.`,
      );
    }
    if (runtime === 'runc') return;
    const gvisor = await this.#isGvisor();
    if (gvisor) openOwnFolders(this.#opts.diskDir);
    const closed = gvisor ? closedAncestor(this.#opts.diskDir) : undefined;
    if (closed) {
      throw new ApiError(
        'RUNTIME_CANNOT_HOST_ENGINE',
        `Under gVisor the sandboxes' disks are opened as the remapped root, and ${closed} (above ${this.#opts.diskDir}) lets no other user through: chmod o+x it (0711 keeps it unlistable).`,
      );
    }
    const id = `probe${randomBytes(4).toString('hex')}`;
    try {
      await this.create({ id, limits: PROBE_LIMITS });
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new ApiError(
        'RUNTIME_CANNOT_HOST_ENGINE',
        `A test sandbox on runtime "${runtime}" (${info.Runtimes?.[runtime]?.path ?? '?'}) could not start its Docker Engine: ${reason}`,
      );
    } finally {
      await this.remove(id).catch(() => undefined);
    }
  }

  exec(sandboxId: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.#in.exec(sandboxId, cmd, opts);
  }

  watch(sandboxId: string, cmd: string[], onLine: (line: string) => void): Promise<Watch> {
    return this.#in.watch(sandboxId, cmd, onLine);
  }

  /** Straight to the sandbox's address on the sandbox network, which this host reaches. */
  async connect(sandboxId: string, port: number): Promise<Duplex> {
    return tcpConnect(await this.#in.address(sandboxId), port);
  }

  openTerminal(sandboxId: string, name: string, opts: TerminalOptions): Promise<TerminalStream> {
    return this.#in.openTerminal(sandboxId, name, opts);
  }

  watchTerminal(sandboxId: string, name: string): Promise<TerminalStream> {
    return this.#in.watchTerminal(sandboxId, name);
  }

  terminals(sandboxId: string): Promise<string[]> {
    return this.#in.terminals(sandboxId);
  }

  async list(): Promise<Sandbox[]> {
    const containers = await this.#docker.listContainers({ all: true, filters: { label: [SANDBOX_LABEL] } });
    void this.#pruneOrphanDisks(new Set(containers.map((c) => c.Labels[SANDBOX_LABEL]!)));
    return containers.map((c) => ({
      id: c.Labels[SANDBOX_LABEL]!,
      ref: c.Id,
      createdAt: new Date(c.Created * 1000),
      labels: c.Labels,
    }));
  }

  /**
   * None: the one host is this server's, and a sandbox that stops there keeps its session, whose
   * learner is told on their next command (SANDBOX_STOPPED) and can reset it.
   */
  lost(): Promise<LostSandbox[]> {
    return Promise.resolve([]);
  }

  createPeerNetwork(networkId: string, labels?: Record<string, string>): Promise<void> {
    return createPeerNetwork(this.#docker, networkId, labels);
  }

  async joinPeerNetwork(networkId: string, sandboxId: string, name: string): Promise<void> {
    // gVisor takes a sandbox's interfaces over when it starts and never sees one added later: the
    // node would be on the network for Docker and cut off inside.
    if (await this.#isGvisor()) throw new ApiError('NODES_UNSUPPORTED');
    return joinPeerNetwork(this.#docker, networkId, containerName(sandboxId), name);
  }

  removePeerNetwork(networkId: string): Promise<void> {
    return removePeerNetwork(this.#docker, networkId);
  }

  listPeerNetworks(): Promise<PeerNetwork[]> {
    return listPeerNetworks(this.#docker);
  }

  async remove(sandboxId: string): Promise<void> {
    // The disk is wherever the container's binds say: a sandbox made by another driver (another
    // data folder) loses its disk with it too.
    const disks = (await this.#disksOf(sandboxId)) ?? this.disks;
    await this.#removeContainer(sandboxId);
    await disks.remove(sandboxId);
  }

  async #disksOf(sandboxId: string): Promise<SandboxDisks | undefined> {
    try {
      const info = await this.#docker.getContainer(containerName(sandboxId)).inspect();
      // Under gVisor the engine's storage is a tmpfs; home is on the disk under either runtime.
      const source = info.Mounts.find((m) => m.Destination === '/var/lib/docker' || m.Destination === '/root')?.Source;
      const mnt = source && dirname(source);
      return mnt && basename(mnt) === sandboxId ? new SandboxDisks(dirname(mnt)) : undefined;
    } catch {
      return undefined;
    }
  }

  async #removeContainer(sandboxId: string): Promise<void> {
    try {
      await this.#docker.getContainer(containerName(sandboxId)).remove({ force: true, v: true });
    } catch (err) {
      if (!isGoneOrGoing(err)) throw err;
    }
  }

  /** Disks whose sandbox container is gone for good (a crash mid-create or mid-remove). */
  async #pruneOrphanDisks(live: Set<string>): Promise<void> {
    for (const id of await this.disks.list()) {
      if (live.has(id) || (await this.disks.ageMs(id)) < ORPHAN_DISK_AGE_MS) continue;
      await this.disks.remove(id).catch(() => undefined);
    }
  }
}
