// Three sandbox hosts on this machine, as docs/scale.md's operator's guide sets up real ones: the
// swarm rig's engines (swarm-rig.ts) configured as sandbox hosts (the sandbox seccomp profile, user
// namespaces), labelled for sandboxes, each with its part of the sandbox network, its own mirror
// and its host agent (whose disk plugin each engine finds in a plugins folder of its own); plus the
// swarm driver over them. What differs from separate hosts: the agents run in this process, and
// their disks are all on this machine's disk.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostRef, specByName } from '../../../images/catalog.ts';
import {
  MIRROR_ALIAS,
  MIRROR_CONTAINER,
  MIRROR_VOLUME,
  OWNER_LABEL,
  SANDBOX_NETWORK,
} from '../../../images/platform.ts';
import { SANDBOX_BRIDGE } from '../../../infra/engine/network-policy.ts';
import { sandboxSeccompProfile } from '../../../infra/engine/seccomp/sandbox-profile.ts';
import { remappedRoot } from '../drivers/docker/cgroup-delegation.ts';
import { resourceViewBinds } from '../drivers/docker/resource-views.ts';
import { SandboxDisks } from '../drivers/docker/sandbox-disk.ts';
import { DISK_DRIVER, SANDBOX_HOST_LABEL } from '../drivers/swarm/service-spec.ts';
import { SwarmDriver } from '../drivers/swarm/swarm-driver.ts';
import { mustRun, run } from '../../../infra/setup/lib/run.ts';
import { startHostAgent, type HostAgent } from '../host-agent/agent.ts';
import { dockerClient } from '../engine/engine.ts';
import { DEFAULT_DAEMON_CONFIG, startSwarmRig, type SwarmRig } from './swarm-rig.ts';

export interface SandboxSwarm {
  rig: SwarmRig;
  driver: SwarmDriver;
  close(): Promise<void>;
}

/** The sandbox hosts' own files: the seccomp profile their engines read, the sandboxes' disks. */
const OWN_DIR = '/var/lib/dockyard-swarm-hosts';

/** The network's configuration on each host: its bridge, the one the network policy names. */
const CONFIG_NETWORK = `${SANDBOX_NETWORK}-config`;

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

export async function startSandboxSwarm(opts: { log?: (line: string) => void; readyTimeoutMs?: number } = {}) {
  const say = opts.log ?? (() => undefined);
  mkdirSync(OWN_DIR, { recursive: true });
  const seccomp = join(OWN_DIR, 'sandbox-seccomp.json');
  writeFileSync(seccomp, sandboxSeccompProfile());
  // The agents mount the disks here: shared before the nodes start, so their mount namespaces see them.
  const disksDir = join(OWN_DIR, 'disks');
  mkdirSync(disksDir, { recursive: true });
  if (!(await run(['mountpoint', '-q', disksDir])).code) await mustRun(['umount', disksDir]);
  await mustRun(['mount', '--bind', '--make-shared', disksDir, disksDir]);
  const disks = new SandboxDisks(disksDir);
  const registry = hostRef(specByName('registry'));
  const nodeLabels = { [SANDBOX_HOST_LABEL]: 'true' };
  const rig = await startSwarmRig({
    daemonConfig: { ...DEFAULT_DAEMON_CONFIG, 'seccomp-profile': seccomp },
    images: ['dockyard/sandbox:latest', 'dockyard-lib/busybox:latest', registry],
    labels: { node1: nodeLabels, node2: nodeLabels, node3: nodeLabels },
    log: say,
  });
  const agents: HostAgent[] = [];
  const uid = remappedRoot(readFileSync('/etc/subuid', 'utf8'));
  try {
    // The sandbox network: a bridge on each host (its own addresses, its own mirror), one network
    // for Swarm.
    for (const node of rig.nodes) {
      await node.docker.createNetwork({
        Name: CONFIG_NETWORK,
        ConfigOnly: true,
        Options: { 'com.docker.network.bridge.name': SANDBOX_BRIDGE },
        Labels: { [OWNER_LABEL]: 'dockyard' },
      } as never);
    }
    await rig.manager.createNetwork({
      Name: SANDBOX_NETWORK,
      Driver: 'bridge',
      Scope: 'swarm',
      ConfigFrom: { Network: CONFIG_NETWORK },
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
        agents.push(
          await startHostAgent({
            docker: node.docker,
            uid,
            disks,
            pluginDir: node.pluginDir,
            netns: node.netns,
            log: (l) => say(`${node.name}: ${l}`),
          }),
        );
      }),
    );
    await pluginsReported(rig);
  } catch (err) {
    await closeAll();
    throw err;
  }
  async function closeAll(): Promise<void> {
    await Promise.all(agents.map((a) => a.close()));
    await rig.close();
    // Disks of sandboxes whose volumes went with their engines.
    for (const id of await disks.list()) await disks.remove(id);
    await mustRun(['umount', disksDir]);
    rmSync(seccomp, { force: true });
  }
  const driver = new SwarmDriver(rig.manager, {
    nodeEngine: (n) => rig.nodes.find((x) => x.name === n.hostname)!.docker,
    viewBinds: resourceViewBinds(),
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
  return {
    rig,
    driver,
    close: closeAll,
  } satisfies SandboxSwarm;
}
