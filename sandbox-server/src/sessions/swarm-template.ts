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
 * `managers - 1` join as managers, the rest as workers. A node already in the swarm stays, and is
 * promoted or demoted to the role the template gives it ("3 managers + 2 workers" after "1 + 2"),
 * so forming again is harmless; a first node that is in a swarm but not its manager is an error.
 */
export async function formSwarm(
  driver: SandboxDriver,
  nodes: readonly Node[],
  managers: number,
  progress: (title: string) => void = () => undefined,
): Promise<void> {
  const [first, ...others] = nodes;
  if (!first) return;
  /** The node's own view: in a swarm or not, a manager or not, and its id there. */
  const swarmOf = async (n: Node) => {
    const [state = '', manager, id = ''] = (
      await run(driver, n, [
        DOCKER,
        'info',
        '--format',
        '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}',
      ])
    ).split(' ');
    return { active: state === 'active', manager: manager === 'true', id };
  };
  const mine = await swarmOf(first);
  if (!mine.active) {
    progress(`${first.name}: docker swarm init`);
    await run(driver, first, [DOCKER, 'swarm', 'init', '--advertise-addr', PEER_INTERFACE]);
  } else if (!mine.manager) {
    throw new ApiError('SWARM_FAILED', `${first.name} is in a swarm it does not manage.`);
  }
  const token = async (role: 'manager' | 'worker') => run(driver, first, [DOCKER, 'swarm', 'join-token', '-q', role]);
  const tokens = { manager: await token('manager'), worker: await token('worker') };
  // Managers one at a time (each joins the Raft group the others agreed on), workers together.
  const extraManagers = Math.max(0, managers - 1);
  const place = async (n: Node, manager: boolean) => {
    const role = manager ? 'manager' : 'worker';
    const now = await swarmOf(n);
    if (!now.active) {
      progress(`${n.name}: docker swarm join (${role})`);
      const join = ['swarm', 'join', '--advertise-addr', PEER_INTERFACE, '--token', tokens[role], `${first.name}:2377`];
      await run(driver, n, [DOCKER, ...join]);
      return;
    }
    // A node in the swarm already (an earlier template) takes the role this one gives it, by its
    // own id: a node that left and joined again is listed twice under its name.
    if (now.manager === manager) return;
    progress(`${n.name}: docker node ${manager ? 'promote' : 'demote'}`);
    await run(driver, first, [DOCKER, 'node', manager ? 'promote' : 'demote', now.id]);
    for (let i = 0; i < 60 && (await swarmOf(n)).manager !== manager; i++) await new Promise((r) => setTimeout(r, 500));
  };
  for (const n of others.slice(0, extraManagers)) await place(n, true);
  await Promise.all(others.slice(extraManagers).map((n) => place(n, false)));
}
