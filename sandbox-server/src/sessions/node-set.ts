// The nodes of a lesson outside a session: the proofs (grader/verify.ts) and the lesson test
// (content/lessons.int.test.ts) start what the lesson page would, node1..nodeN on a peer network
// of their own, with the lesson's Swarm formed, and remove it all afterwards.
import type { SandboxDriver, SandboxLimits } from '../drivers/driver.ts';
import { formSwarm, joinAsNode, SWARM_TEMPLATES, type Node, type SwarmTemplateId } from './swarm-template.ts';

export interface NodeSetSpec {
  /** Names the sandboxes (node1 is `id` itself, node2 `id-n2`...) and the peer network. */
  id: string;
  /** How many nodes: 1 is a single sandbox, with no peer network. */
  nodes: number;
  /** A Swarm to form of the nodes, as the lesson page does before the learner starts. */
  template?: SwarmTemplateId | undefined;
  limits: SandboxLimits;
  labels?: Record<string, string>;
}

export interface NodeSet {
  /** node1 first. */
  nodes: Node[];
  /** Removes every sandbox and the peer network; safe to call twice. */
  remove(): Promise<void>;
}

const sandboxIdOf = (id: string, i: number) => (i === 0 ? id : `${id}-n${i + 1}`);

/**
 * Starts `spec.nodes` sandboxes, joins them on one peer network under their names and forms the
 * template's Swarm. Anything started is removed again if a step fails.
 */
export async function createNodes(driver: SandboxDriver, spec: NodeSetSpec): Promise<NodeSet> {
  const nodes: Node[] = Array.from({ length: spec.nodes }, (_, i) => ({
    name: `node${i + 1}`,
    sandboxId: sandboxIdOf(spec.id, i),
  }));
  const peered = nodes.length > 1;
  const created: string[] = [];
  const set: NodeSet = {
    nodes,
    async remove() {
      await Promise.all(created.splice(0).map((id) => driver.remove(id).catch(() => undefined)));
      if (peered) await driver.removePeerNetwork(spec.id).catch(() => undefined);
    },
  };
  try {
    if (peered) await driver.createPeerNetwork(spec.id, spec.labels);
    // All settled before a failure is thrown, so that remove() finds every sandbox that started.
    const started = await Promise.allSettled(
      nodes.map(async (n) => {
        await driver.create({
          id: n.sandboxId,
          limits: spec.limits,
          labels: { ...spec.labels, 'org.dockyard.node': n.name },
        });
        created.push(n.sandboxId);
        if (peered) await joinAsNode(driver, spec.id, n);
      }),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (spec.template) await formSwarm(driver, nodes, SWARM_TEMPLATES[spec.template].managers);
    return set;
  } catch (err) {
    await set.remove();
    throw err;
  }
}
