// Port previews on the real engine: a learner publishes nginx in their sandbox, the port list
// updates by itself, and the preview origin shows the page to the grant holder only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  learnerWithTerminal,
  openPreview as open,
  startTestServer,
  TestClient,
  type TestServer,
  type TestSocket,
} from '../test-support/harness.ts';
import { GRANT_COOKIE } from './preview-proxy.ts';
import { testRuntimes } from '../test-support/runtimes.ts';

// Once per runtime this run covers (DOCKYARD_TEST_RUNTIMES): runc in the int tier, runsc in its own.
for (const { runtime, skip } of await testRuntimes()) {
  const title = runtime === 'runc' ? '' : ` on ${runtime}${skip ? `, skipped: ${skip}` : ''}`;
  let server: TestServer;
  let learner: TestClient;
  let socket: TestSocket;
  let sessionId = '';

  describe.skipIf(skip !== undefined)(`port previews${title}`, () => {
    beforeAll(async () => {
      server = await startTestServer({ DOCKYARD_SANDBOX_RUNTIME: runtime });
      ({ client: learner, sessionId, socket } = await learnerWithTerminal(server));
    });
    afterAll(async () => {
      await socket?.close();
      await server?.stop();
    });

    it("lists a port as soon as the learner's container publishes it, from the engine's events", async () => {
      await socket.waitFor((m) => m.type === 'ports' && m.ports.length === 0);
      await socket.run('t1', 'docker run -d --name web -p 8080:80 nginx', /[0-9a-f]{64}/, 60_000);
      const msg = await socket.waitFor((m) => m.type === 'ports' && m.ports.length > 0, 15_000);
      expect(msg).toMatchObject({
        type: 'ports',
        ports: [{ port: 8080, target: 80, container: 'web', image: 'nginx' }],
      });
      const rest = await learner.req<{ ports: Array<{ port: number; previewUrl: string }> }>(
        'GET',
        `/api/sessions/${sessionId}/ports`,
      );
      expect(rest.body.ports.map((p) => p.port)).toEqual([8080]);
      expect(rest.body.ports[0]!.previewUrl).toMatch(new RegExp(`^http://p8080-${sessionId}\\.localhost:\\d+/$`));
    });

    it('shows the page through the preview URL to the grant holder, and refuses it without the grant', async () => {
      const grant = await learner.req<{ url: string }>('POST', `/api/sessions/${sessionId}/previews`, { port: 8080 });
      expect(grant.status).toBe(200);
      const link = grant.body.url;
      expect(new URL(link).hostname).toBe(`p8080-${sessionId}.localhost`);

      const redeemed = await open(link);
      expect(redeemed.status).toBe(303);
      expect(redeemed.location).toBe('/');
      const cookie = redeemed.setCookie!.split(';')[0]!;
      expect(cookie.startsWith(`${GRANT_COOKIE}=`)).toBe(true);

      // nginx may need a moment after `docker run` returns.
      await expect
        .poll(async () => (await open(new URL('/', link).toString(), cookie)).body, { timeout: 15_000 })
        .toContain('Welcome to nginx!');
      const bare = await open(new URL('/', link).toString());
      expect(bare.status).toBe(403);
      expect(bare.body).not.toContain('Welcome to nginx!');
    });

    it("gives no grant for another learner's session", async () => {
      const other = new TestClient(server.url);
      const r = await other.req('POST', `/api/sessions/${sessionId}/previews`, { port: 8080 });
      expect(r.status).toBe(404);
      expect((await other.req('POST', `/api/sessions/${sessionId}/previews`, { port: 70000 })).status).toBe(404);
      expect((await learner.req('POST', `/api/sessions/${sessionId}/previews`, { port: 70000 })).status).toBe(400);
    });

    it('drops a port from the list when its container stops', async () => {
      await socket.run('t1', 'docker rm -f web', /web/, 30_000);
      const before = socket.messages.length;
      await socket.until(
        () => socket.messages.slice(before).find((m) => m.type === 'ports' && m.ports.length === 0),
        15_000,
        'an empty port list',
      );
    });
  });
}
