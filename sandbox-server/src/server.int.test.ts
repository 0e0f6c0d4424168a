// The sandbox server end to end on the real engine: sessions, terminals, files, expiry, capacity, access.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { containerName } from './drivers/docker/sandbox-options.ts';
import { dockerClient } from './engine/engine.ts';
import { startTestServer, TEST_ORIGIN, TestClient, type TestServer } from './test-support/harness.ts';

const docker = dockerClient('/var/run/docker.sock');
const sandboxExists = async (sandboxId: string) =>
  docker
    .getContainer(containerName(sandboxId))
    .inspect()
    .then(
      () => true,
      () => false,
    );

describe('sessions and terminals', () => {
  let server: TestServer;
  let client: TestClient;
  let sessionId: string;
  beforeAll(async () => {
    server = await startTestServer();
    client = new TestClient(server.url);
    sessionId = await client.createSession();
  });
  afterAll(() => server.stop());

  it('gives the same owner their session back instead of a second one', async () => {
    expect(await client.createSession()).toBe(sessionId);
    const list = await client.req<{ sessions: Array<{ id: string; state: string }> }>('GET', '/api/sessions');
    expect(list.body.sessions).toEqual([expect.objectContaining({ id: sessionId, state: 'ready' })]);
  });

  it('runs `docker run --rm busybox` in a terminal and streams its output', async () => {
    const ws = await client.connect(sessionId);
    expect(await ws.waitFor((m) => m.type === 'session')).toMatchObject({ state: 'ready' });
    expect(await ws.open('t1')).toBe(false);
    const out = await ws.run('t1', "docker run --rm busybox sh -c 'echo $((40+2))-from-inner'", /42-from-inner/);
    expect(out).toContain('42-from-inner');
    await ws.close();
  });

  it('resizes the terminal (stty size follows)', async () => {
    const ws = await client.connect(sessionId);
    await ws.open('t2', { cols: 80, rows: 24 });
    ws.send({ type: 'resize', term: 't2', cols: 100, rows: 30 });
    expect(await ws.run('t2', 'stty size', /30 100/)).toMatch(/30 100/);
    await ws.close();
  });

  it('keeps keystrokes sent while the terminal is still opening', async () => {
    const ws = await client.connect(sessionId);
    ws.send({ type: 'open', term: 'early', cols: 80, rows: 24 });
    ws.send({ type: 'input', term: 'early', data: 'echo typed-$((20+1))-early\r' });
    await ws.until(() => /typed-21-early/.test(ws.output('early')), 15_000, 'the early keystrokes to run');
    await ws.close();
  });

  it('reattaches a terminal after a reload, with its shell state and recent output', async () => {
    const first = await client.connect(sessionId);
    await first.open('t3');
    await first.run('t3', 'MARK=still-here; echo set-$MARK', /set-still-here/);
    await first.close();
    const second = await client.connect(sessionId);
    expect(await second.open('t3')).toBe(true);
    await second.until(() => second.output('t3').includes('set-still-here'), 5000, 'replayed output');
    expect(await second.run('t3', 'echo again-$MARK', /again-still-here/)).toContain('again-still-here');
    await second.close();
  });

  it('answers bad messages with BAD_MESSAGE and keeps the connection', async () => {
    const ws = await client.connect(sessionId);
    ws.send({ type: 'launch-missiles' });
    expect(await ws.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'BAD_MESSAGE' });
    ws.send({ type: 'ping', at: 7 });
    expect(await ws.waitFor((m) => m.type === 'pong')).toEqual({ type: 'pong', at: 7 });
    await ws.close();
  });

  it('shows a file written through the API in the terminal, and the other way round', async () => {
    const put = await client.req('PUT', `/api/sessions/${sessionId}/file?path=app/Dockerfile`, {
      content: 'FROM busybox\nCMD ["echo", "from-editor"]\n',
    });
    expect(put.status).toBe(200);
    const ws = await client.connect(sessionId);
    await ws.open('t4');
    expect(await ws.run('t4', 'cat ~/work/app/Dockerfile', /from-editor/)).toContain('FROM busybox');
    await ws.run('t4', 'echo written-in-shell > ~/work/notes.txt && echo ok-$((1+1))', /ok-2/);
    const read = await client.req<{ content: string }>('GET', `/api/sessions/${sessionId}/file?path=notes.txt`);
    expect(read.body.content).toBe('written-in-shell\n');
    const list = await client.req<{ entries: Array<{ name: string }> }>('GET', `/api/sessions/${sessionId}/files`);
    expect(list.body.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['app', 'notes.txt']));
    await ws.close();
  });

  it('refuses a path out of the working directory', async () => {
    const r = await client.req<{ error: { code: string } }>(
      'GET',
      `/api/sessions/${sessionId}/file?path=../../etc/passwd`,
    );
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('FILE_PATH_INVALID');
  });

  it('resets to a clean sandbox in the same session, ending the old terminals', async () => {
    const ws = await client.connect(sessionId);
    await ws.open('t5');
    await ws.run(
      't5',
      'docker run -d --name leftover busybox sleep 600 >/dev/null && echo started-$((2*3))',
      /started-6/,
    );
    const before = server.sessions.sandboxOf(sessionId);
    const reset = await client.req<{ session: { id: string; state: string } }>(
      'POST',
      `/api/sessions/${sessionId}/reset`,
      {},
    );
    expect(reset.body.session).toMatchObject({ id: sessionId, state: 'ready' });
    await ws.waitFor((m) => m.type === 'session' && m.state === 'creating' && m.reason === 'reset');
    await ws.waitFor((m) => m.type === 'exit' && m.term === 't5');
    expect(server.sessions.sandboxOf(sessionId)).not.toBe(before);
    expect(await sandboxExists(before)).toBe(false);
    await ws.open('t6');
    expect(await ws.run('t6', 'echo count-$(docker ps -aq | wc -l)', /count-\d/)).toMatch(/count-0/);
    await ws.close();
  });

  it('extends a session by another TTL', async () => {
    const before = (await client.req<{ session: { expiresAt: number } }>('GET', `/api/sessions/${sessionId}`)).body
      .session;
    const after = await client.req<{ session: { expiresAt: number } }>('POST', `/api/sessions/${sessionId}/extend`, {});
    expect(after.body.session.expiresAt).toBeGreaterThan(before.expiresAt + server.config.sessionTtlMs - 5000);
  });

  it('keeps other people out: another browser gets SESSION_NOT_FOUND, even for a ticket', async () => {
    const stranger = new TestClient(server.url);
    const r = await stranger.req<{ error: { code: string } }>('POST', `/api/sessions/${sessionId}/ticket`, {});
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('SESSION_NOT_FOUND');
  });

  it('refuses a WebSocket from a foreign Origin, without a ticket, or with a forged one', async () => {
    await expect(client.connect(sessionId, 'https://evil.example')).rejects.toThrow(/upgrade refused: 403/);
    const ws = (q: string) =>
      new Promise<number>((resolve) => {
        const url = `${server.url.replace('http', 'ws')}/api/sessions/${sessionId}/ws${q}`;
        const socket = new WebSocket(url, { headers: { origin: TEST_ORIGIN } });
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('open', () => resolve(101));
      });
    expect(await ws('')).toBe(401);
    const ticket = await client.ticket(sessionId);
    expect(await ws(`?ticket=${ticket.slice(0, -2)}xx`)).toBe(401);
  });

  it('ends the session on DELETE: the sandbox goes and the socket is told', async () => {
    const ws = await client.connect(sessionId);
    const sandboxId = server.sessions.sandboxOf(sessionId);
    expect((await client.req('DELETE', `/api/sessions/${sessionId}`)).status).toBe(204);
    expect(await ws.waitFor((m) => m.type === 'session' && m.state === 'expired')).toMatchObject({ reason: 'ended' });
    await ws.until(() => ws.closeCode === 4404, 5000, 'close 4404');
    expect(await sandboxExists(sandboxId)).toBe(false);
  });
});

describe('expiry', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      DOCKYARD_SESSION_TTL_S: '4',
      DOCKYARD_IDLE_TIMEOUT_S: '600',
      DOCKYARD_EXPIRY_WARNING_S: '3',
      DOCKYARD_REAPER_INTERVAL_S: '1',
    });
  });
  afterAll(() => server.stop());

  it('warns before the TTL, then removes the sandbox and tells the client', async () => {
    const client = new TestClient(server.url);
    const id = await client.createSession();
    const sandboxId = server.sessions.sandboxOf(id);
    const ws = await client.connect(id);
    await ws.open('t');
    await ws.waitFor((m) => m.type === 'session' && m.state === 'expiring', 10_000);
    // Removing the sandbox comes first (a few seconds on a loaded machine), then the news.
    expect(await ws.waitFor((m) => m.type === 'session' && m.state === 'expired', 30_000)).toMatchObject({
      reason: 'ttl',
    });
    await ws.until(() => ws.closeCode === 4404, 5000, 'close 4404');
    // Its shell went with it: that is the news, not an exit code.
    expect(ws.messages.filter((m) => m.type === 'exit')).toEqual([]);
    expect(await sandboxExists(sandboxId)).toBe(false);
    expect((await client.req('GET', `/api/sessions/${id}`)).status).toBe(404);
  });
});

describe('idle timeout', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      DOCKYARD_IDLE_TIMEOUT_S: '4',
      DOCKYARD_EXPIRY_WARNING_S: '1',
      DOCKYARD_REAPER_INTERVAL_S: '1',
    });
  });
  afterAll(() => server.stop());

  it('ends a session nobody used, and input keeps one alive', async () => {
    // The busy learner types before the idle one exists; each connects (which counts as activity)
    // right after creating, so a slow sandbox start cannot eat the short idle timeout.
    const busy = new TestClient(server.url);
    const busyId = await busy.createSession();
    const busyWs = await busy.connect(busyId);
    await busyWs.open('t');
    const typing = setInterval(() => busyWs.send({ type: 'input', term: 't', data: ' \u0015' }), 500);
    try {
      const idle = new TestClient(server.url);
      const idleWs = await idle.connect(await idle.createSession());
      expect(await idleWs.waitFor((m) => m.type === 'session' && m.state === 'expired', 10_000)).toMatchObject({
        reason: 'idle',
      });
      expect(server.sessions.viewOf(busyId)).toBeDefined();
    } finally {
      clearInterval(typing);
    }
  });
});

describe('capacity', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ DOCKYARD_MAX_SANDBOXES: '1' });
  });
  afterAll(() => server.stop());

  it('fails fast with OUT_OF_CAPACITY and a Retry-After when the host is full', async () => {
    await new TestClient(server.url).createSession();
    const started = Date.now();
    const r = await new TestClient(server.url).req<{
      error: { code: string; retryAfterSeconds: number; hint: string };
    }>('POST', '/api/sessions', {});
    // Fails fast: no sandbox start is attempted (one takes seconds under load, a hang forever).
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('OUT_OF_CAPACITY');
    expect(r.body.error.retryAfterSeconds).toBeGreaterThanOrEqual(5);
    expect(r.headers.get('retry-after')).toBe(String(r.body.error.retryAfterSeconds));
  });
});

describe('warm pool', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ DOCKYARD_WARM_POOL_SIZE: '1' });
  });
  afterAll(() => server.stop());

  it('hands out a pre-started sandbox and refills behind it', async () => {
    await server.sessions.pool.idle();
    expect(server.sessions.pool.ready()).toBe(1);
    const client = new TestClient(server.url);
    const id = await client.createSession();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/dockyard_sessions_created_total\{source="pool"\} 1/);
    const ws = await client.connect(id);
    await ws.open('t');
    expect(await ws.run('t', 'echo pool-$((3*3))', /pool-9/)).toContain('pool-9');
    await ws.close();
    await server.sessions.pool.idle();
    expect(server.sessions.pool.ready()).toBe(1);
  });
});
