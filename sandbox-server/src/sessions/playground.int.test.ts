// Sessions of several nodes on the real engine, through a running server: a template forms a
// 3-node Swarm whose service puts a task on each node; each node has its own terminals, files and
// map; nodes count against capacity, and removing one frees its slot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../protocol/messages.ts';
import { startTestServer, TestClient, type TestServer, type TestSocket } from '../test-support/harness.ts';
import { nodeKey } from './session-manager.ts';

type Session = { id: string; nodes: string[] };
// eslint-disable-next-line no-control-regex -- colours and modes are escape sequences, made of control characters
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
type ErrorBody = { error: { code: string; title: string; hint: string } };

let server: TestServer;
let alice: TestClient;
let session: string;
let socket: TestSocket;

const sh = async (node: string, script: string, timeoutMs = 60_000) =>
  server.driver.exec(server.sessions.sandboxOf(nodeKey(session, node)), ['bash', '-c', script], { timeoutMs });

beforeAll(async () => {
  // Room for alice's 3 nodes and bob's 2: the sixth sandbox finds the host full.
  server = await startTestServer({ DOCKYARD_MAX_SANDBOXES: '5' });
  alice = new TestClient(server.url);
  session = await alice.createSession();
  socket = await alice.connect(session);
  // A shell from before the session had nodes: its prompt says "sandbox" until node1 is one of several.
  await socket.open('early');
  await socket.until(() => plain(socket.output('early')).includes('sandbox:~/work# '), 30_000, 'the first prompt');
});
afterAll(() => server.stop());

describe('a playground session of several nodes', () => {
  it('forms "1 manager + 2 workers" with progress, and a 3-replica service runs a task on each node', async () => {
    const r = await alice.req<{ session: Session }>('POST', `/api/sessions/${session}/template`, {
      template: 'swarm-1-2',
    });
    expect(r.status).toBe(200);
    expect(r.body.session.nodes).toEqual(['node1', 'node2', 'node3']);
    const progress = socket.messages.flatMap((m) => (m.type === 'session' && m.progress ? [m.progress] : []));
    expect(progress[0]).toMatchObject({ step: 1, title: 'Starting node2' });
    expect(progress.at(-1)).toMatchObject({ title: 'Ready: 1 manager + 2 workers' });
    expect(progress.at(-1)!.step).toBe(progress.at(-1)!.of);
    expect(socket.messages.some((m) => m.type === 'session' && m.nodes?.length === 3)).toBe(true);

    const nodes = await sh('node1', "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' | sort");
    expect(
      nodes.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    ).toEqual(['node1 Ready Leader', 'node2 Ready', 'node3 Ready']);
    // Applying it again changes nothing.
    expect((await alice.req('POST', `/api/sessions/${session}/template`, { template: 'swarm-1-2' })).status).toBe(200);

    await sh('node1', 'docker service create -d --name spread --replicas 3 --no-resolve-image busybox sleep 1d');
    let placed: string[] = [];
    for (let i = 0; i < 90 && placed.length < 3; i++) {
      const ps = await sh(
        'node1',
        "docker service ps spread --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'",
      );
      placed = [...new Set(ps.stdout.split('\n').flatMap((l) => (l.includes('Running') ? [l.split(' ')[0]!] : [])))];
      if (placed.length < 3) await new Promise((res) => setTimeout(res, 1000));
    }
    expect(placed.sort()).toEqual(['node1', 'node2', 'node3']);
  });

  it('gives each node its own terminal (named in the prompt), files and map', async () => {
    await socket.open('n2', { node: 'node2' });
    const out = await socket.run('n2', 'hostname; ping -c1 -W3 node3 >/dev/null && echo reached-$((1+2))', /reached-3/);
    expect(out).toMatch(/^node2\r?$/m);
    // The prompt names the node (its colours aside): node2:~/work#, and node1's older shell now says node1.
    expect(plain(socket.output('n2'))).toMatch(/node2:~\/work# /);
    await socket.run('early', 'echo again-$((2+2))', /again-4/);
    await socket.until(
      () => /again-4\r\nnode1:~\/work# $/.test(plain(socket.output('early'))),
      5000,
      'the node1 prompt',
    );

    const put = await alice.req('PUT', `/api/sessions/${session}/file?path=only-here.txt&node=node3`, {
      content: 'on node3\n',
    });
    expect(put.status).toBe(200);
    expect((await sh('node3', 'cat ~/work/only-here.txt')).stdout).toBe('on node3\n');
    expect((await alice.req('GET', `/api/sessions/${session}/file?path=only-here.txt`)).status).toBe(404);

    const map = await alice.req<{ map: { containers: { name: string }[] } }>(
      'GET',
      `/api/sessions/${session}/map?node=node2`,
    );
    expect(map.body.map.containers.map((c) => c.name).join(' ')).toMatch(/^spread\.\d\./);
    // The socket pushes each node's map, tagged with its node.
    await socket.waitFor((m: ServerMessage) => m.type === 'map' && m.node === 'node3' && m.map.containers.length === 1);
    expect((await alice.req('GET', `/api/sessions/${session}/map?node=box`)).status).toBe(400);
    expect((await alice.req('GET', `/api/sessions/${session}/map?node=node4`)).status).toBe(404);
  });

  it('counts nodes against capacity: a full host refuses a node with a retry time, and a removed node frees its slot', async () => {
    const bob = new TestClient(server.url);
    const bobs = await bob.createSession();
    expect((await bob.req('POST', `/api/sessions/${bobs}/nodes`, {})).status).toBe(201);
    const full = await bob.req<ErrorBody>('POST', `/api/sessions/${bobs}/nodes`, {});
    expect(full.status).toBe(503);
    expect(full.body.error.code).toBe('OUT_OF_CAPACITY');
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await bob.req<{ session: Session }>('GET', `/api/sessions/${bobs}`)).body.session.nodes).toEqual([
      'node1',
      'node2',
    ]);

    // Someone else's session and nodes are not found, and node1 is the session itself.
    expect((await bob.req('DELETE', `/api/sessions/${session}/nodes/node3`)).status).toBe(404);
    const first = await alice.req<ErrorBody>('DELETE', `/api/sessions/${session}/nodes/node1`);
    expect(first.body.error.code).toBe('FIRST_NODE_STAYS');

    const gone = server.sessions.sandboxOf(nodeKey(session, 'node3'));
    const removed = await alice.req<{ session: Session }>('DELETE', `/api/sessions/${session}/nodes/node3`);
    expect(removed.body.session.nodes).toEqual(['node1', 'node2']);
    expect((await server.driver.list()).map((s) => s.id)).not.toContain(gone);
    expect((await bob.req<{ node: string }>('POST', `/api/sessions/${bobs}/nodes`, {})).body.node).toBe('node3');
    const refused = await bob.req<ErrorBody>('POST', `/api/sessions/${bobs}/nodes`, {});
    expect(refused.body.error.code).toBe('OUT_OF_CAPACITY');
    expect((await bob.req('DELETE', `/api/sessions/${bobs}`)).status).toBe(204);
  });

  it('"3 managers + 2 workers" over the first Swarm: adds nodes, promotes node2, and the old node3 is not counted', async () => {
    const r = await alice.req<{ session: Session }>('POST', `/api/sessions/${session}/template`, {
      template: 'swarm-3-2',
    });
    expect(r.status).toBe(200);
    expect(r.body.session.nodes).toEqual(['node1', 'node2', 'node3', 'node4', 'node5']);
    // Each node's own view: node1 to node3 manage (node2 promoted, the new node3 joined as a
    // manager), node4 and node5 are workers.
    const roles = await Promise.all(
      r.body.session.nodes.map(
        async (n) =>
          `${n} ${(await sh(n, "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'")).stdout.trim()}`,
      ),
    );
    expect(roles).toEqual([
      'node1 active true',
      'node2 active true',
      'node3 active true',
      'node4 active false',
      'node5 active false',
    ]);
    const managers = await sh(
      'node1',
      "docker node ls --filter role=manager --format '{{.Hostname}} {{.Status}}' | sort",
    );
    expect(managers.stdout.trim().split('\n')).toEqual(['node1 Ready', 'node2 Ready', 'node3 Ready']);
  });

  it('ends with every node and its network gone', async () => {
    const sandboxes = ['node1', 'node2', 'node5'].map((n) => server.sessions.sandboxOf(nodeKey(session, n)));
    expect((await alice.req('DELETE', `/api/sessions/${session}`)).status).toBe(204);
    const left = (await server.driver.list()).map((s) => s.id);
    for (const s of sandboxes) expect(left).not.toContain(s);
    expect((await server.driver.listPeerNetworks()).map((n) => n.id)).not.toContain(session);
  });
});
