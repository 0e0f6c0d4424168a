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
  log?: (line: string) => void;
}

export interface HostAgent {
  close(): Promise<void>;
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  id?: string;
}

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

  try {
    // Listing volumes asks every plugin the engine finds: from then on it reports this one to Swarm.
    await docker.listVolumes();
    // Events first, then the running ones: a sandbox starting in between is seen at least once.
    events = (await docker.getEvents({
      filters: { type: ['container'], event: ['start'], label: [SANDBOX_LABEL] },
    })) as NodeJS.ReadableStream;
    let pending = '';
    events.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        const e = JSON.parse(line) as EngineEvent;
        if (e.id && !closed) void prepare(e.id);
      }
    });
    events.on('error', (err: Error) => log(`engine events ended: ${err.message}`));
    const running = await docker.listContainers({ filters: { label: [SANDBOX_LABEL], status: ['running'] } });
    await Promise.all(running.map((c) => prepare(c.Id)));
  } catch (err) {
    await plugin.close();
    throw err;
  }
  return {
    async close() {
      closed = true;
      (events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      await plugin.close();
    },
  };
}
