// Peer networks on the local engine: one internal bridge per session of several nodes. Internal,
// so the engine routes nothing off it (the nodes keep their first network, the sandbox network,
// for the mirror); its bridge name starts with `dyp`, which the network policy matches to refuse
// the host itself to anything arriving on one (infra/engine/network-policy.ts).
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { OWNER_LABEL } from '../../../../images/platform.ts';
import type { PeerNetwork } from '../driver.ts';
import { PEER_BRIDGES } from '../../../../infra/engine/network-policy.ts';

export const PEER_LABEL = 'org.dockyard.peers';

export const peerNetworkName = (networkId: string) => `dockyard-peers-${networkId}`;
/** A bridge name from the id: interface names hold 15 characters, ids may be longer. */
export const peerBridgeName = (networkId: string) =>
  `${PEER_BRIDGES}${createHash('sha256').update(networkId).digest('hex').slice(0, 12)}`;

const status = (err: unknown) => (err as { statusCode?: number }).statusCode ?? 0;

/**
 * Peer networks take /28s (14 addresses: 5 nodes and the bridge fit) from 198.18.0.0/15, the range
 * reserved for network testing: the engine's default pools hold about 30 networks in all, and a
 * busy host has more playground sessions than that. Away from 10/8 (Swarm's own pool inside the
 * nodes), 172.16/12 and 192.168/16 (the inner engines' bridges).
 */
export const PEER_POOL = { base: (198 << 24) | (18 << 16), slots: 2 ** 17 / 16 };
const slotSubnet = (slot: number) => {
  const n = PEER_POOL.base + slot * 16;
  return `${[24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.')}/28`;
};
const slotOf = (networkId: string) => createHash('sha256').update(networkId).digest().readUInt32BE(0) % PEER_POOL.slots;
const overlaps = (err: unknown) => /overlap|in use|pool/i.test(String((err as Error).message));

export async function createPeerNetwork(
  docker: Docker,
  networkId: string,
  labels: Record<string, string> = {},
): Promise<void> {
  // A slot from the id's hash, or the next free one when another network holds it.
  const start = slotOf(networkId);
  for (let i = 0; i < 64; i++) {
    try {
      await docker.createNetwork({
        Name: peerNetworkName(networkId),
        Driver: 'bridge',
        Internal: true,
        CheckDuplicate: true,
        IPAM: { Config: [{ Subnet: slotSubnet((start + i) % PEER_POOL.slots) }] },
        Options: { 'com.docker.network.bridge.name': peerBridgeName(networkId) },
        Labels: { ...labels, [OWNER_LABEL]: 'dockyard', [PEER_LABEL]: networkId },
      });
      return;
    } catch (err) {
      if (status(err) === 409) return;
      if (!overlaps(err)) throw err;
    }
  }
  throw new Error(`no free subnet for the peer network ${networkId}`);
}

/** Connects `container` (a sandbox's, by name or id) to the peer network, reached there as `name`. */
export async function joinPeerNetwork(docker: Docker, networkId: string, container: string, name: string) {
  await docker.getNetwork(peerNetworkName(networkId)).connect({
    Container: container,
    EndpointConfig: { Aliases: [name] },
  });
}

export async function removePeerNetwork(docker: Docker, networkId: string): Promise<void> {
  const network = docker.getNetwork(peerNetworkName(networkId));
  try {
    const info = (await network.inspect()) as { Containers?: Record<string, unknown> };
    for (const container of Object.keys(info.Containers ?? {}))
      await network.disconnect({ Container: container, Force: true }).catch(() => undefined);
    await network.remove();
  } catch (err) {
    if (![404, 409].includes(status(err))) throw err;
  }
}

export async function listPeerNetworks(docker: Docker): Promise<PeerNetwork[]> {
  const networks = await docker.listNetworks({ filters: { label: [PEER_LABEL] } });
  return networks.map((n) => ({ id: n.Labels?.[PEER_LABEL] ?? '', labels: n.Labels ?? {} })).filter((n) => n.id);
}

/**
 * Removes peer networks no sandbox is on any more, made over `minAgeMs` ago (a younger one may be
 * about to be joined). For test runs whose servers' data folders, and so their ids, are gone: a
 * server's own sweep removes only the networks of its own sessions.
 */
export async function removeAbandonedPeerNetworks(docker: Docker, minAgeMs = 60_000): Promise<number> {
  let removed = 0;
  for (const n of await docker.listNetworks({ filters: { label: [PEER_LABEL] } })) {
    const info = (await docker.getNetwork(n.Id).inspect()) as {
      Containers?: Record<string, unknown>;
      Created?: string;
    };
    if (Object.keys(info.Containers ?? {}).length || Date.now() - Date.parse(info.Created ?? '') < minAgeMs) continue;
    await docker
      .getNetwork(n.Id)
      .remove()
      .then(
        () => removed++,
        () => undefined,
      );
  }
  return removed;
}
