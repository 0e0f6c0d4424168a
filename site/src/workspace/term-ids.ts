// Terminal ids and labels. A terminal runs on one node of the session: node1's are t1, t2... (the
// ids they had before nodes existed); another node's carry its name (node2-1), so the instructor
// watching, who sees only ids, knows where each runs.

export const FIRST_NODE = 'node1';

const ON_NODE = /^(node\d+)-(\d+)$/;

/** The node a terminal id runs on: `node2-1` on node2, `t3` on node1. */
export const nodeOf = (id: string) => ON_NODE.exec(id)?.[1] ?? FIRST_NODE;

/** A terminal's number on its node: 1 for `node2-1` and for `t1`. */
export const numberOf = (id: string) => Number(/(\d+)$/.exec(id)?.[1]) || 0;

/** The id of a node's `n`th terminal. */
export const termId = (node: string, n: number) => (node === FIRST_NODE ? `t${n}` : `${node}-${n}`);

/** Whether the id is of a terminal on another node than the first. */
export const onOtherNode = (id: string) => ON_NODE.test(id);

/** "Terminal 2" in a session of one node; "node1 · 2", "node2 · 1" when `named` (several nodes). */
export const termLabel = (id: string, named: boolean) =>
  named || onOtherNode(id) ? `${nodeOf(id)} · ${numberOf(id)}` : `Terminal ${numberOf(id)}`;
