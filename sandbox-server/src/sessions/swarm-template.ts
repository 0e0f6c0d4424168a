// Nodes and Swarms: a sandbox joining a session's private network as a named node, and templates
// that add nodes and form a Swarm of them (init on node1, the others join) before the learner
// gets the prompt. Works on the driver alone, so the proofs (verify.ts) form Swarms the same way.
import type { SandboxDriver } from '../drivers/driver.ts';
import { ApiError } from '../errors.ts';

export { SWARM_TEMPLATES, SWARM_TEMPLATE_IDS, type SwarmTemplateId } from '@dockyard/content';

export interface Node {
  name: string;
  sandboxId: string;
}

/** The Swarm traffic (2377, 7946, 4789) goes over the peer network: the node's second interface. */
const PEER_INTERFACE = 'eth1';
/** The sandbox image's own docker CLI, never one a learner put first in PATH. */
const DOCKER = '/usr/bin/docker';

async function run(driver: SandboxDriver, node: Node, args: string[]): Promise<string> {
  const r = await driver.exec(node.sandboxId, args, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) {
    throw new ApiError('SWARM_FAILED', `${node.name}: \`${args.join(' ')}\` said: ${r.stderr.trim().slice(0, 300)}`);
  }
  return r.stdout.trim();
}

/**
 * Puts a sandbox on a peer network as `name`: the other nodes reach it by that name, and its
 * hostname says it too (the shell, `docker node ls`).
 */
export async function joinAsNode(driver: SandboxDriver, networkId: string, node: Node): Promise<void> {
  await driver.joinPeerNetwork(networkId, node.sandboxId, node.name);
  const r = await driver.exec(node.sandboxId, ['hostname', node.name], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new Error(`hostname ${node.name}: ${r.stderr.trim()}`);
}

/**
 * Forms a Swarm of `nodes` (already on one peer network): the first inits it, the next
 * `managers - 1` join as managers, the rest as workers. A node already in a swarm is left as it
 * is, so forming again is harmless; a first node that is in a swarm but not its manager is an error.
 */
export async function formSwarm(
  driver: SandboxDriver,
  nodes: readonly Node[],
  managers: number,
  progress: (title: string) => void = () => undefined,
): Promise<void> {
  const [first, ...others] = nodes;
  if (!first) return;
  const state = (n: Node) =>
    run(driver, n, [DOCKER, 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}']);
  const mine = await state(first);
  if (mine === 'inactive false') {
    progress(`${first.name}: docker swarm init`);
    await run(driver, first, [DOCKER, 'swarm', 'init', '--advertise-addr', PEER_INTERFACE]);
  } else if (mine !== 'active true') {
    throw new ApiError('SWARM_FAILED', `${first.name} is in a swarm it does not manage (${mine}).`);
  }
  const token = async (role: 'manager' | 'worker') => run(driver, first, [DOCKER, 'swarm', 'join-token', '-q', role]);
  const tokens = { manager: await token('manager'), worker: await token('worker') };
  const join = async (n: Node, role: 'manager' | 'worker') => {
    if ((await state(n)).startsWith('inactive')) {
      progress(`${n.name}: docker swarm join (${role})`);
      await run(driver, n, [
        DOCKER,
        'swarm',
        'join',
        '--advertise-addr',
        PEER_INTERFACE,
        '--token',
        tokens[role],
        `${first.name}:2377`,
      ]);
    }
  };
  // Managers one at a time (each joins the Raft group the others agreed on), workers together.
  const extraManagers = others.slice(0, Math.max(0, managers - 1));
  for (const n of extraManagers) await join(n, 'manager');
  await Promise.all(others.slice(extraManagers.length).map((n) => join(n, 'worker')));
}
