// The host agent of a Swarm sandbox host: what the docker driver does on its own host around a
// sandbox, done here for the sandboxes Swarm starts on this one. When the engine starts a sandbox,
// it does the host's part (drivers/docker/host-part.ts) and then marks the sandbox ready for it, a
// file the swarm driver waits for. Sandboxes already running when it starts get the same (it is
// idempotent), so a restarted agent leaves none unprepared. It serves the sandboxes' disks as a
// volume plugin (disk-plugin.ts), and has the engine look at it at once: Swarm places a task that
// needs a plugin only on a node whose engine reports it, and an engine reports a plugin only once it
// has used it. It runs as a service of the host, not of the Swarm: under user namespaces a Swarm
// task's root cannot use the host's engine socket, and a service cannot opt out of them.
import type Docker from 'dockerode';
import type { SandboxDisks } from '../drivers/docker/sandbox-disk.ts';
import { startDiskPlugin } from './disk-plugin.ts';
import { SandboxContainers } from '../drivers/docker/sandbox-containers.ts';
import { HOST_READY_FILE, prepareOnHost } from '../drivers/docker/host-part.ts';
import { SANDBOX_LABEL } from '../drivers/docker/sandbox-options.ts';
import { DISK_DRIVER } from '../drivers/swarm/service-spec.ts';
import { MIRROR_CONTAINER, OWNER_LABEL, SANDBOX_NETWORK } from '../../../images/platform.ts';
import { SANDBOX_BRIDGE } from '../../../infra/engine/network-policy.ts';

/**
 * This host's part of the sandbox network: a config-only network naming its bridge (the one the
 * network policy names), from which the Swarm's network `dockyard-sandboxes` is made on each host.
 */
export const HOST_NETWORK = { name: `${SANDBOX_NETWORK}-config`, bridge: SANDBOX_BRIDGE } as const;

export interface HostAgentOptions {
  /** This host's engine. */
  docker: Docker;
  /** The host uid of sandbox root (the engine's user namespaces), undefined without them. */
  uid: number | undefined;
  /** The sandboxes' disks on this host. */
  disks: SandboxDisks;
  /** Where the engine finds volume plugins, when not /run/docker/plugins (the test rig). */
  pluginDir?: string;
  /** The network namespace the engine's bridges are in, when not this process's (the test rig). */
  netns?: string;
  /**
   * How often the disks' volumes are looked at: one no container has used at two looks in a row
   * is removed (a sandbox's volumes are made a moment before its container). Default 60 s.
   */
  sweepMs?: number;
  log?: (line: string) => void;
}

export interface HostAgent {
  /** Removes the disk volumes no container has used since the last sweep; resolves with how many. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  id?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the agent; resolves once its plugin is known to the engine and every running sandbox is prepared. */
export async function startHostAgent(opts: HostAgentOptions): Promise<HostAgent> {
  const { docker, uid, netns, log = () => undefined } = opts;
  const plugin = await startDiskPlugin({
    disks: opts.disks,
    uid: uid ?? 0,
    ...(opts.pluginDir ? { socketDir: opts.pluginDir } : {}),
  });
  const inside = new SandboxContainers(docker, {
    locate: (id) => id,
    gvisor: () => Promise.resolve(false),
    readyTimeoutMs: 30_000,
  });
  let closed = false;
  let events: NodeJS.ReadableStream | undefined;

  const prepare = async (containerId: string): Promise<void> => {
    try {
      const info = await docker.getContainer(containerId).inspect();
      if (!info.State.Running) return;
      await prepareOnHost(docker, { pid: info.State.Pid, uid, pids: info.HostConfig.PidsLimit ?? 0 }, netns);
      const r = await inside.exec(containerId, ['touch', HOST_READY_FILE], { timeoutMs: 30_000 });
      if (r.exitCode !== 0) throw new Error(r.stderr.trim());
      log(`prepared ${info.Config.Labels[SANDBOX_LABEL]} (${containerId.slice(0, 12)})`);
    } catch (err) {
      // It stays unmarked: the swarm driver's wait for it fails and the sandbox is removed.
      log(`could not prepare ${containerId.slice(0, 12)}: ${(err as Error).message}`);
    }
  };

  /**
   * What this host's sandboxes need of its engine, made again after each engine start: a sandbox
   * host's engine starts without its network state (engine 20.10 keeps a stale record of a Swarm
   * bridge network after an unclean stop and then refuses every task on it, moby/moby#37087), so
   * its part of the sandbox network is made here, and its mirror started again.
   */
  const ensureHostPart = async (): Promise<void> => {
    const networks = await docker.listNetworks({ filters: { name: [HOST_NETWORK.name] } });
    if (!networks.some((n) => n.Name === HOST_NETWORK.name)) {
      await docker.createNetwork({
        Name: HOST_NETWORK.name,
        ConfigOnly: true,
        Options: { 'com.docker.network.bridge.name': HOST_NETWORK.bridge },
        Labels: { [OWNER_LABEL]: 'dockyard' },
      } as never);
      log(`made ${HOST_NETWORK.name}, this host's part of the sandbox network`);
    }
    const mirror = await docker
      .getContainer(MIRROR_CONTAINER)
      .inspect()
      .catch(() => undefined);
    if (mirror && !mirror.State.Running) {
      await docker.getContainer(MIRROR_CONTAINER).start();
      log('started the mirror again');
    }
  };

  /** Follows the engine's sandbox starts, and prepares the sandboxes running now. */
  const follow = async (): Promise<void> => {
    await ensureHostPart();
    // Listing volumes asks every plugin the engine finds: from then on it reports this one to Swarm.
    await docker.listVolumes();
    // Events first, then the running ones: a sandbox starting in between is seen at least once.
    const stream = (await docker.getEvents({
      filters: { type: ['container'], event: ['start'], label: [SANDBOX_LABEL] },
    })) as NodeJS.ReadableStream;
    events = stream;
    let pending = '';
    let ended = false;
    const onEnd = (why: string) => {
      if (ended || closed) return;
      ended = true;
      log(`engine events ended (${why}): following the engine again`);
      void followAgain();
    };
    stream.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const e = JSON.parse(line) as EngineEvent;
        if (e.id && !closed) void prepare(e.id);
      }
    });
    stream.on('error', (err: Error) => onEnd(err.message));
    stream.on('end', () => onEnd('the engine closed them'));
    const running = await docker.listContainers({ filters: { label: [SANDBOX_LABEL], status: ['running'] } });
    await Promise.all(running.map((c) => prepare(c.Id)));
  };

  /** After the engine went away (a restart): tries again every second until it answers. */
  const followAgain = async (): Promise<void> => {
    while (!closed) {
      try {
        await follow();
        log('following the engine again');
        return;
      } catch {
        await sleep(1000);
      }
    }
  };

  // Volumes no container used at the last sweep: removed if still unused at this one.
  let unused = new Set<string>();
  const sweep = async (): Promise<number> => {
    const { Volumes } = await docker.listVolumes({ filters: { driver: [DISK_DRIVER], dangling: ['true'] } });
    const now = new Set((Volumes ?? []).map((v) => v.Name));
    let removed = 0;
    for (const name of now) {
      if (!unused.has(name)) continue;
      try {
        await docker.getVolume(name).remove();
        now.delete(name);
        removed++;
      } catch (err) {
        log(`could not remove the unused volume ${name}: ${(err as Error).message}`);
      }
    }
    unused = now;
    if (removed) log(`removed ${removed} volumes of sandboxes that are gone`);
    return removed;
  };

  try {
    await follow();
  } catch (err) {
    await plugin.close();
    throw err;
  }
  const sweeper = setInterval(() => void sweep().catch(() => undefined), opts.sweepMs ?? 60_000);
  sweeper.unref();
  void sweep().catch(() => undefined);
  return {
    sweep,
    async close() {
      closed = true;
      clearInterval(sweeper);
      (events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      await plugin.close();
    },
  };
}
