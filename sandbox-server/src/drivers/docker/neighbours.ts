// Pins, inside each new sandbox, the link-layer addresses of the two neighbours it trusts: the
// mirror and the gateway. Sandboxes share one bridge, and sandbox root may add any address to its
// own interface and answer ARP for it: without this, one learner could claim the mirror's address
// and serve other learners' `docker pull` (tried: the neighbour's pulls reached the impostor).
// A permanent neighbour entry ignores ARP replies, and it lives in the victim's own network
// namespace, where only that sandbox's root could remove it (hurting no one else).
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { MIRROR_CONTAINER, SANDBOX_NETWORK } from '../../../../images/platform.ts';
import { SANDBOX_BRIDGE } from '../../../../infra/engine/network-policy.ts';
import { mustRun, run } from '../../../../infra/setup/lib/run.ts';

export interface Neighbour {
  ip: string;
  mac: string;
}

/**
 * The mirror and the gateway of the sandbox network, as this host has them now. `netns` names the
 * network namespace the engine's bridge is in when it is not this process's (the test rig's hosts).
 */
export async function trustedNeighbours(docker: Docker, netns?: string, bridge = SANDBOX_BRIDGE): Promise<Neighbour[]> {
  const found: Neighbour[] = [];
  const mirror = await docker
    .getContainer(MIRROR_CONTAINER)
    .inspect()
    .catch(() => undefined);
  const endpoint = mirror?.NetworkSettings.Networks[SANDBOX_NETWORK];
  if (endpoint?.IPAddress && endpoint.MacAddress) found.push({ ip: endpoint.IPAddress, mac: endpoint.MacAddress });
  const network = (await docker
    .getNetwork(SANDBOX_NETWORK)
    .inspect()
    .catch(() => undefined)) as { IPAM?: { Config?: { Gateway?: string }[] } } | undefined;
  const gateway = network?.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
  const macFile = `/sys/class/net/${bridge}/address`;
  const gatewayMac = netns
    ? (await run(['nsenter', `--net=/run/netns/${netns}`, 'cat', macFile])).stdout || undefined
    : await readFile(macFile, 'utf8').catch(() => undefined);
  if (gateway && gatewayMac) found.push({ ip: gateway, mac: gatewayMac.trim() });
  return found;
}

/** Writes permanent neighbour entries into the network namespace of process `pid` (the sandbox's init). */
export async function pinNeighbours(pid: number, neighbours: readonly Neighbour[]): Promise<void> {
  if (neighbours.length === 0) return;
  const script = neighbours.map((n) => `ip neigh replace ${n.ip} lladdr ${n.mac} dev eth0 nud permanent`).join('\n');
  await mustRun(['nsenter', '--net', '--target', String(pid), '--', 'sh', '-ec', script]);
}
