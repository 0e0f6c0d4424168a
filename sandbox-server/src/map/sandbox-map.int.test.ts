// The sandbox map on the real engine: the learner makes a network and two containers on it in
// their terminal, and the map follows by itself over the WebSocket; the REST map agrees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../protocol/messages.ts';
import {
  learnerWithTerminal,
  startTestServer,
  TestClient,
  type TestServer,
  type TestSocket,
} from '../test-support/harness.ts';
import type { SandboxMap } from './sandbox-map.ts';

let server: TestServer;
let learner: TestClient;
let socket: TestSocket;
let sessionId = '';

const mapOf = (m: ServerMessage) => (m.type === 'map' ? m.map : undefined);
const onAppNet = (map: SandboxMap) =>
  map.containers
    .filter((c) => c.networks.includes('app-net'))
    .map((c) => c.name)
    .sort();

beforeAll(async () => {
  server = await startTestServer();
  ({ client: learner, sessionId, socket } = await learnerWithTerminal(server));
});
afterAll(async () => {
  await socket?.close();
  await server?.stop();
});

describe('the sandbox map', () => {
  it("arrives on connect, with the engine's own networks and nothing of the learner's yet", async () => {
    const msg = await socket.waitFor((m) => m.type === 'map', 15_000);
    const map = mapOf(msg)!;
    expect(map.containers).toEqual([]);
    expect(map.networks.filter((n) => n.builtin).map((n) => n.name)).toEqual(['bridge', 'host', 'none']);
  });

  it('follows the containers and networks the learner makes, and REST agrees', async () => {
    await socket.run(
      't1',
      'docker network create app-net && docker run -d --name db --network app-net redis && ' +
        'docker run -d --name api --network app-net busybox sleep 3600 && echo MADE-$((6*7))',
      /MADE-42/,
      120_000,
    );
    const msg = await socket.waitFor((m) => {
      const map = mapOf(m);
      return Boolean(map && onAppNet(map).join() === 'api,db' && map.containers.every((c) => c.state === 'running'));
    }, 15_000);
    const map = mapOf(msg)!;
    expect(map.networks).toContainEqual({ name: 'app-net', driver: 'bridge', builtin: false });
    expect(map.containers).toEqual([
      { name: 'api', image: 'busybox', state: 'running', networks: ['app-net'], ports: [], volumes: [] },
      // redis declares VOLUME /data: an anonymous volume.
      {
        name: 'db',
        image: 'redis',
        state: 'running',
        networks: ['app-net'],
        ports: [],
        volumes: [expect.stringMatching(/^[0-9a-f]{64}$/)],
      },
    ]);
    expect(map.volumes.map((v) => v.name)).toEqual(map.containers[1]!.volumes);

    const rest = await learner.req<{ map: SandboxMap }>('GET', `/api/sessions/${sessionId}/map`);
    expect(rest.status).toBe(200);
    expect(rest.body.map).toEqual(map);
  });

  it("is nobody else's to read", async () => {
    const stranger = new TestClient(server.url);
    const r = await stranger.req<{ error: { code: string } }>('GET', `/api/sessions/${sessionId}/map`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('SESSION_NOT_FOUND');
  });
});
