// Peer networks on the local engine: one internal bridge per session of several nodes. Internal,
// so the engine routes nothing off it (the nodes keep their first network, the sandbox network,
// for the mirror); its bridge name starts with `dyp`, which the network policy matches to refuse
// the host itself to anything arriving on one (infra/engine/network-policy.ts).
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { OWNER_LABEL } from '../../../../images/platform.ts';
import type { PeerNetwork } from '../driver.ts';
import { PEER_BRIDGES } from '../../../../infra/engine/network-policy.ts';
import { containerName } from './sandbox-options.ts';

export const PEER_LABEL = 'org.dockyard.peers';

export const peerNetworkName = (networkId: string) => `dockyard-peers-${networkId}`;
/** A bridge name from the id: interface names hold 15 characters, ids may be longer. */
export const peerBridgeName = (networkId: string) =>
  `${PEER_BRIDGES}${createHash('sha256').update(networkId).digest('hex').slice(0, 12)}`;

const status = (err: unknown) => (err as { statusCode?: number }).statusCode ?? 0;

export async function createPeerNetwork(
  docker: Docker,
  networkId: string,
  labels: Record<string, string> = {},
): Promise<void> {
  try {
    await docker.createNetwork({
      Name: peerNetworkName(networkId),
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Options: { 'com.docker.network.bridge.name': peerBridgeName(networkId) },
      Labels: { ...labels, [OWNER_LABEL]: 'dockyard', [PEER_LABEL]: networkId },
    });
  } catch (err) {
    if (status(err) !== 409) throw err;
  }
}

export async function joinPeerNetwork(docker: Docker, networkId: string, sandboxId: string, name: string) {
  await docker.getNetwork(peerNetworkName(networkId)).connect({
    Container: containerName(sandboxId),
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
