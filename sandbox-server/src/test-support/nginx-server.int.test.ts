// Debian's nginx with the deployment's proxy rules: HTTP and WebSockets pass, a dead replica is skipped.
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startNginx, type NginxServer } from './nginx-server.ts';

/** A stand-in replica: names itself on HTTP, echoes WebSocket messages with its name. */
async function replica(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'] }));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${name}:${m.toString()}`)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, address: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

interface Answer {
  name: string;
  host: string;
  forwardedFor: string;
}

/** One request on a connection of its own (a kept-alive one could outlive a reload), as JSON. */
async function send(url: string, method: string, host?: string) {
  const req = request(url, { method, agent: false, headers: host ? { host } : {} });
  req.end(method === 'POST' ? '{}' : undefined);
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode, headers: res.headers, body };
}

async function ask(url: string, { method = 'GET', host }: { method?: string; host?: string } = {}): Promise<Answer> {
  const res = await send(url, method, host);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as Answer;
}

const names = async (url: string, n: number, method?: string) => {
  const got: string[] = [];
  for (let i = 0; i < n; i++) got.push((await ask(url, { method })).name);
  return got;
};

describe('nginx in front of replicas', () => {
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;
  let nginx: NginxServer;

  beforeAll(async () => {
    [a, b] = await Promise.all([replica('a'), replica('b')]);
    nginx = await startNginx({ upstreams: [a.address, b.address], previewUpstreams: [a.address, b.address] });
  });
  afterAll(async () => {
    await nginx?.stop();
    for (const r of [a, b]) r?.server.closeAllConnections();
    await Promise.all([a, b].map((r) => r && new Promise((done) => r.server.close(done))));
  });

  it('passes HTTP to both replicas with the Host and the client address', async () => {
    expect(new Set(await names(`${nginx.url}/api/health`, 6))).toEqual(new Set(['a', 'b']));
    const body = await ask(`${nginx.url}/`);
    expect(body.host).toBe(new URL(nginx.url).host);
    expect(body.forwardedFor).toBe('127.0.0.1');
  });

  it('passes previews on their own port with their own Host', async () => {
    const host = `p8080-0123456789abcdef.localhost:${nginx.previewPort}`;
    expect((await ask(`http://127.0.0.1:${nginx.previewPort}/`, { host })).host).toBe(host);
  });

  it('passes a WebSocket both ways', async () => {
    const ws = new WebSocket(`${nginx.url.replace('http', 'ws')}/api/sessions/x/ws`);
    await once(ws, 'open');
    ws.send('hello');
    const [reply] = (await once(ws, 'message')) as [Buffer];
    expect(reply.toString()).toMatch(/^(a|b):hello$/);
    ws.close();
  });

  it('sends everything to the live replica once one is killed, and takes a new list on reload', async () => {
    a.server.closeAllConnections();
    await new Promise((done) => a.server.close(done));
    // Connections to `a` are refused now: each request that meets it goes on to `b`.
    expect(await names(`${nginx.url}/`, 10)).toEqual(Array(10).fill('b'));
    const posts = await names(`${nginx.url}/api/sessions`, 4, 'POST');
    expect(posts).toEqual(Array(4).fill('b'));
    const ws = new WebSocket(`${nginx.url.replace('http', 'ws')}/ws`);
    await once(ws, 'open');
    ws.send('still');
    expect(((await once(ws, 'message')) as [Buffer])[0].toString()).toBe('b:still');
    ws.close();

    a = await replica('a2');
    await nginx.reload([a.address]);
    expect(await names(`${nginx.url}/`, 3)).toEqual(['a2', 'a2', 'a2']);
  });
});

describe('nginx limits', () => {
  it('answers POSTs to /api/account/ past the limit as the API would, and nothing else', async () => {
    const r = await replica('only');
    const nginx = await startNginx({ upstreams: [r.address], extra: { accountPostsPerMinute: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await send(`${nginx.url}/api/account/sign-in`, 'POST')).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = await send(`${nginx.url}/api/account/sign-in`, 'POST');
      expect(limited.headers['retry-after']).toBe('30');
      expect(JSON.parse(limited.body).error.code).toBe('TOO_MANY_SIGN_INS');
      expect((await send(`${nginx.url}/api/account/me`, 'GET')).status).toBe(200);
      expect((await send(`${nginx.url}/api/sessions`, 'POST')).status).toBe(200);
    } finally {
      await nginx.stop();
      await new Promise((done) => r.server.close(done));
    }
  });
});
