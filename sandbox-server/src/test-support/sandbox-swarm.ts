// Three sandbox hosts on this machine, as docs/swarm.md's set-up makes real ones: the swarm rig's
// engines (swarm-rig.ts) configured as sandbox hosts (the sandbox seccomp profile, user
// namespaces), labelled for sandboxes, each with its part of the sandbox network and its network
// policy, its own mirror and its host agent (whose disk plugin each engine finds in a plugins
// folder of its own); plus the swarm driver over them. What differs from separate hosts: the agents run in this process, and
// their disks are all on this machine's disk.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostRef, specByName } from '../../../images/catalog.ts';
import {
  MIRROR_ALIAS,
  MIRROR_CONTAINER,
  MIRROR_VOLUME,
  OWNER_LABEL,
  SANDBOX_NETWORK,
} from '../../../images/platform.ts';
import { sandboxSeccompProfile } from '../../../infra/engine/seccomp/sandbox-profile.ts';
import { applyPolicy, SANDBOX_BRIDGE } from '../../../infra/engine/network-policy.ts';
import { remappedRoot } from '../drivers/docker/cgroup-delegation.ts';
import { SANDBOX_LABEL } from '../drivers/docker/sandbox-options.ts';
import { resourceViewBinds } from '../drivers/docker/resource-views.ts';
import { SandboxDisks } from '../drivers/docker/sandbox-disk.ts';
import { DISK_DRIVER, SANDBOX_HOST_LABEL } from '../drivers/swarm/service-spec.ts';
import { SwarmDriver } from '../drivers/swarm/swarm-driver.ts';
import { mustRun, run } from '../../../infra/setup/lib/run.ts';
import { HOST_NETWORK, startHostAgent, type HostAgent } from '../host-agent/agent.ts';
import { dockerClient } from '../engine/engine.ts';
import { cleanLeftoverRigs, DEFAULT_DAEMON_CONFIG, startSwarmRig, type SwarmRig } from './swarm-rig.ts';

export interface SandboxSwarm {
  rig: SwarmRig;
  driver: SwarmDriver;
  /** The server's DOCKYARD_SWARM_NODE_ENGINE for these hosts: their engines' sockets. */
  nodeEngineTemplate: string;
  close(): Promise<void>;
}

/**
 * The host each running sandbox is on, as Swarm reports its task: sandbox id to hostname. (A
 * sandbox's task wants to complete, as a job's does: its state, not its desired state, says running.)
 */
export async function sandboxHosts(rig: SwarmRig): Promise<Map<string, string>> {
  const nodes = (await rig.manager.listNodes()) as { ID: string; Description: { Hostname: string } }[];
  const tasks = (await rig.manager.listTasks()) as {
    NodeID?: string;
    Status: { State: string };
    Spec: { ContainerSpec: { Labels?: Record<string, string> } };
  }[];
  const where = new Map<string, string>();
  for (const t of tasks) {
    const id = t.Spec.ContainerSpec.Labels?.[SANDBOX_LABEL];
    const host = nodes.find((n) => n.ID === t.NodeID)?.Description.Hostname;
    if (id && host && t.Status.State === 'running') where.set(id, host);
  }
  return where;
}

/** The sandbox hosts' own files: the seccomp profile their engines read, the sandboxes' disks. */
const OWN_DIR = '/var/lib/dockyard-swarm-hosts';

/** Waits until every node's engine reports the disk plugin to the manager (Swarm places by it). */
async function pluginsReported(rig: SwarmRig, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = (await rig.manager.listNodes()) as {
      Description?: { Hostname?: string; Engine?: { Plugins?: { Type: string; Name: string }[] } };
    }[];
    const missing = nodes.filter(
      (n) => !n.Description?.Engine?.Plugins?.some((p) => p.Type === 'Volume' && p.Name === DISK_DRIVER),
    );
    if (missing.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${missing.map((n) => n.Description?.Hostname).join(', ')} did not report ${DISK_DRIVER}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * What the set-up of a sandbox host has systemd do before each start of its engine
 * (infra/swarm/sandbox-host.sh): remove the engine's network state, its own and its remapped
 * root's, which the host agent makes again (moby/moby#37087: after an unclean stop, engine 20.10
 * keeps a stale record of the Swarm's bridge network and refuses every sandbox on it).
 */
function forgetNetworkState(dataRoot: string): void {
  const roots = [
    dataRoot,
    ...readdirSync(dataRoot, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(dataRoot, d.name)),
  ];
  for (const root of roots) rmSync(join(root, 'network', 'files', 'local-kv.db'), { force: true });
}

export async function startSandboxSwarm(
  opts: {
    log?: (line: string) => void;
    readyTimeoutMs?: number;
    /** How often the host agents look for the volumes of sandboxes that are gone (their default: 60 s). */
    agentSweepMs?: number;
  } = {},
) {
  const say = opts.log ?? (() => undefined);
  mkdirSync(OWN_DIR, { recursive: true });
  const seccomp = join(OWN_DIR, 'sandbox-seccomp.json');
  writeFileSync(seccomp, sandboxSeccompProfile());
  // The agents mount the disks here: shared before the nodes start, so their mount namespaces see them.
  const disksDir = join(OWN_DIR, 'disks');
  mkdirSync(disksDir, { recursive: true });
  // A run killed before its close left its hosts' engines running and their disks mounted here.
  await cleanLeftoverRigs();
  if (!(await run(['mountpoint', '-q', disksDir])).code) await mustRun(['umount', '--recursive', disksDir]);
  await mustRun(['mount', '--bind', '--make-shared', disksDir, disksDir]);
  // A folder of disks per host, as separate hosts have: a host agent answers for every disk of its
  // folder, and removes those no container of its engine uses.
  const disks = new Map<string, SandboxDisks>();
  const registry = hostRef(specByName('registry'));
  const nodeLabels = { [SANDBOX_HOST_LABEL]: 'true' };
  const rig = await startSwarmRig({
    daemonConfig: { ...DEFAULT_DAEMON_CONFIG, 'seccomp-profile': seccomp },
    images: ['dockyard/sandbox:latest', 'dockyard-lib/busybox:latest', registry],
    labels: { node1: nodeLabels, node2: nodeLabels, node3: nodeLabels },
    log: say,
    beforeRestart: (node) => forgetNetworkState(node.dataRoot),
  });
  const agents = new Map<string, HostAgent>();
  const disksOf = (host: string): SandboxDisks => {
    const dir = join(disksDir, host);
    mkdirSync(dir, { recursive: true });
    const hostDisks = new SandboxDisks(dir);
    disks.set(host, hostDisks);
    return hostDisks;
  };
  const uid = remappedRoot(readFileSync('/etc/subuid', 'utf8'));
  try {
    // Each host's agent, which also makes the host's part of the sandbox network (its bridge, the
    // one the network policy names); then one network for Swarm made from those parts.
    await Promise.all(
      rig.nodes.map(async (node) => {
        agents.set(
          node.name,
          await startHostAgent({
            docker: node.docker,
            uid,
            disks: disksOf(node.name),
            pluginDir: node.pluginDir,
            netns: node.netns,
            ...(opts.agentSweepMs ? { sweepMs: opts.agentSweepMs } : {}),
            log: (l) => say(`${node.name}: ${l}`),
          }),
        );
      }),
    );
    await rig.manager.createNetwork({
      Name: SANDBOX_NETWORK,
      Driver: 'bridge',
      Scope: 'swarm',
      ConfigFrom: { Network: HOST_NETWORK.name },
      // Labels too are configuration, which a network made from a config-only one may not have.
      Attachable: true,
    } as never);
    // Each host's mirror serves what this machine's mirror holds, read-only.
    const mirrorData = (
      (await dockerClient('/var/run/docker.sock').getVolume(MIRROR_VOLUME).inspect()) as {
        Mountpoint: string;
      }
    ).Mountpoint;
    await Promise.all(
      rig.nodes.map(async (node) => {
        const mirror = await node.docker.createContainer({
          name: MIRROR_CONTAINER,
          Image: registry,
          Env: ['REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled": true}'],
          Labels: { [OWNER_LABEL]: 'dockyard' },
          HostConfig: { Binds: [`${mirrorData}:/var/lib/registry:ro`], NetworkMode: SANDBOX_NETWORK },
          NetworkingConfig: { EndpointsConfig: { [SANDBOX_NETWORK]: { Aliases: [MIRROR_ALIAS] } } },
        });
        await mirror.start();
        // The network policy of a sandbox host, as its set-up applies it, in the host's own network.
        const mirrorIp = (await mirror.inspect()).NetworkSettings.Networks[SANDBOX_NETWORK]!.IPAddress;
        await applyPolicy({ bridge: SANDBOX_BRIDGE, mirrorIp, mirrorPort: 5000, egressAllow: [], netns: node.netns });
      }),
    );
    await pluginsReported(rig);
  } catch (err) {
    await closeAll();
    throw err;
  }
  async function closeAll(): Promise<void> {
    await Promise.all([...agents.values()].map((a) => a.close()));
    await rig.close();
    // Disks of sandboxes whose volumes went with their engines.
    for (const hostDisks of disks.values()) for (const id of await hostDisks.list()) await hostDisks.remove(id);
    await mustRun(['umount', disksDir]);
    rmSync(seccomp, { force: true });
  }
  const driver = new SwarmDriver(rig.manager, {
    nodeEngine: (n) => rig.nodes.find((x) => x.name === n.hostname)!.docker,
    viewBinds: resourceViewBinds(),
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
  const node1 = rig.nodes[0]!;
  return {
    rig,
    driver,
    nodeEngineTemplate: `unix://${node1.socket.replace(`/${node1.name}/`, '/{hostname}/')}`,
    close: closeAll,
  } satisfies SandboxSwarm;
}
