// The host's part of starting a sandbox, done where its processes are, before its learner's first
// command: no neighbour can pose as the mirror or the gateway (neighbours.ts); the sandbox gets its
// cgroup (on cgroup v2 its entrypoint waits for it) and its share of the quotas that all sandboxes'
// root, one host uid, draws from (host-limits.ts). The docker driver does it as it creates a
// sandbox; on a Swarm host the host agent does it when the engine starts one.
import type Docker from 'dockerode';
import { confineUserNamespace } from '../../../../infra/engine/host-limits.ts';
import { delegateCgroups } from './cgroup-delegation.ts';
import { pinNeighbours, trustedNeighbours } from './neighbours.ts';

/** Made in the sandbox once the host agent has done the host's part (the swarm driver waits for it). */
export const HOST_READY_FILE = '/run/dockyard-host-ready';

export interface HostSandbox {
  /** Its init's pid on the host. */
  pid: number;
  /** Its root's host uid; undefined without user namespaces. */
  uid: number | undefined;
  /** Its pids limit. */
  pids: number;
}

/** The host's part for one sandbox; `netns` as for trustedNeighbours. */
export async function prepareOnHost(docker: Docker, { pid, uid, pids }: HostSandbox, netns?: string): Promise<void> {
  await Promise.all([
    trustedNeighbours(docker, netns).then((n) => pinNeighbours(pid, n)),
    uid === undefined ? undefined : delegateCgroups(pid, uid).then(() => confineUserNamespace(pid, pids)),
  ]);
}
