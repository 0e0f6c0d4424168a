// Port previews with a fake driver: the "sandbox" ports are local servers, the proxy and its rules are real.
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeSessions, quietLog } from '../test-support/fake-sessions.ts';
import { WebSocket, WebSocketServer } from 'ws';
import { hmacSigner } from '../identity/signing.ts';
import { ticketIssuer } from '../identity/tickets.ts';
import { EngineEvents } from '../sessions/engine-events.ts';
import { previewGrants } from './preview-grants.ts';
import { PreviewHosts } from './preview-hosts.ts';
import { createPreviewServer, GRANT_COOKIE, GRANT_PARAM, hostOnlyCookie } from './preview-proxy.ts';
import { publishedPorts, PublishedPortsRegistry } from './published-ports.ts';

const SID = '0123456789abcdef';

interface RawReply {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** GET through node:http, whose Host header is ours to set. */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: {
            get: (n) => {
              const v = res.headers[n.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
          },
          text: async () => Buffer.concat(chunks).toString('utf8'),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

describe('PreviewHosts', () => {
  const hosts = new PreviewHosts('http://localhost:8081');

  it('gives each session and port its own host, and reads it back', () => {
    const url = hosts.url({ sessionId: SID, port: 8080 }, '/a?b=1');
    expect(url).toBe(`http://p8080-${SID}.localhost:8081/a?b=1`);
    expect(hosts.parse(new URL(url).host)).toEqual({ sessionId: SID, port: 8080 });
  });

  it('reads no target from any other host', () => {
    for (const h of [
      'localhost:8081',
      `p8080-${SID}.evil.test`,
      `p8080-${SID}.localhost.evil.test`,
      `p99999-${SID}.localhost`,
      `p0-${SID}.localhost`,
      'p8080-XYZ.localhost',
      `x.p8080-${SID}.localhost`,
      undefined,
    ]) {
      expect(hosts.parse(h), String(h)).toBeUndefined();
    }
  });
});

describe('preview grants', () => {
  const signer = hmacSigner(Buffer.alloc(32, 7));
  const clock = { t: 1000 };
  const grants = previewGrants(signer, () => clock.t);

  it('open one session, one port, one kind, until they expire', () => {
    const g = grants.issue('link', SID, 8080, 2000);
    expect(grants.check(g, 'link', SID, 8080)).toBe(true);
    expect(grants.check(g, 'cookie', SID, 8080)).toBe(false);
    expect(grants.check(g, 'link', SID, 8081)).toBe(false);
    expect(grants.check(g, 'link', 'fedcba9876543210', 8080)).toBe(false);
    expect(grants.check(`${g}x`, 'link', SID, 8080)).toBe(false);
    clock.t = 2000;
    expect(grants.check(g, 'link', SID, 8080)).toBe(false);
  });

  it('are not WebSocket tickets, and tickets are not grants', () => {
    const tickets = ticketIssuer(signer, 30_000, () => clock.t);
    const { ticket } = tickets.issue({ sessionId: SID, ownerId: 'o' });
    expect(grants.check(ticket, 'cookie', SID, 8080)).toBe(false);
    expect(tickets.check(grants.issue('cookie', SID, 8080, clock.t + 5000), SID)).toBeUndefined();
  });
});

describe('publishedPorts', () => {
  it('lists published TCP ports once each, with their container, sorted', () => {
    const json = JSON.stringify([
      {
        Names: ['/web'],
        Image: 'nginx',
        Ports: [
          { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
          { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        ],
      },
      { Names: ['/dns'], Image: 'x', Ports: [{ PrivatePort: 53, PublicPort: 5353, Type: 'udp' }] },
      { Names: ['/db'], Image: 'postgres', Ports: [{ PrivatePort: 5432, Type: 'tcp' }] },
      { Names: ['/api'], Image: 'node', Ports: [{ PrivatePort: 3000, PublicPort: 3000, Type: 'tcp' }] },
    ]);
    expect(publishedPorts(json)).toEqual([
      { port: 3000, target: 3000, container: 'api', image: 'node' },
      { port: 8080, target: 80, container: 'web', image: 'nginx' },
    ]);
    expect(publishedPorts('not json')).toEqual([]);
    expect(publishedPorts('{"message":"x"}')).toEqual([]);
  });
});

describe('hostOnlyCookie', () => {
  it('drops a Domain attribute, so an app cannot set cookies for the platform', () => {
    expect(hostOnlyCookie('a=1; Domain=localhost; Path=/')).toBe('a=1; Path=/');
    expect(hostOnlyCookie('a=1; path=/; domain=.localhost')).toBe('a=1; path=/');
  });
});

describe('the preview proxy', () => {
  const { driver, sessions } = fakeSessions();
  const grants = previewGrants(hmacSigner(Buffer.alloc(32, 1)));
  let app: Server;
  let proxy: Server;
  let hosts: PreviewHosts;
  let appPort = 0;
  let sessionId = '';
  let seen: { cookie?: string; forwardedHost?: string } = {};

  beforeAll(async () => {
    // The learner's app, as if published in their sandbox: echoes what it got, sets cookies, speaks WebSocket.
    app = createServer((req, res) => {
      seen = { cookie: req.headers.cookie, forwardedHost: req.headers['x-forwarded-host'] as string };
      res.setHeader('set-cookie', ['theme=dark; Domain=localhost; Path=/']);
      res.end(`app saw ${req.method} ${req.url}`);
    }).listen(0, '127.0.0.1');
    await once(app, 'listening');
    appPort = (app.address() as AddressInfo).port;
    new WebSocketServer({ server: app }).on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
    await sessions.start();
    sessionId = (await sessions.create('owner')).session.id;
    proxy = createPreviewServer({
      hosts: new PreviewHosts('http://localhost'),
      grants,
      sessions,
      driver,
      log: quietLog,
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    hosts = new PreviewHosts(`http://localhost:${(proxy.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await sessions.stop();
    proxy.closeAllConnections();
    app.closeAllConnections();
    await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => app.close(r))]);
  });

  /** A request to the proxy as the browser sends it for a preview host (fetch cannot set Host). */
  const get = (port: number, path: string, cookie?: string, sid = sessionId) =>
    rawGet((proxy.address() as AddressInfo).port, path, {
      host: new URL(hosts.url({ sessionId: sid, port })).host,
      ...(cookie ? { cookie } : {}),
    });
  const grantCookie = (port: number) =>
    `${GRANT_COOKIE}=${grants.issue('cookie', sessionId, port, Date.now() + 60_000)}`;

  it('refuses a preview without a grant, with a page that says what to do', async () => {
    const r = await get(appPort, '/');
    expect(r.status).toBe(403);
    const html = await r.text();
    expect(html).toContain('This preview is private');
    expect(html).toContain('PREVIEW_FORBIDDEN');
    expect(html).not.toContain('app saw');
  });

  it('swaps a link grant for a host-only cookie and drops it from the URL', async () => {
    const link = grants.issue('link', sessionId, appPort, Date.now() + 60_000);
    const r = await get(appPort, `/page?x=1&${GRANT_PARAM}=${link}`);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/page?x=1');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^${GRANT_COOKIE}=`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).not.toMatch(/domain=/i);
    const followed = await get(appPort, '/page?x=1', cookie.split(';')[0]);
    expect(await followed.text()).toBe('app saw GET /page?x=1');
  });

  it('refuses an expired link, and a grant for another port or session', async () => {
    const old = grants.issue('link', sessionId, appPort, Date.now() - 1);
    expect((await get(appPort, `/?${GRANT_PARAM}=${old}`)).status).toBe(403);
    expect((await get(appPort, '/', grantCookie(appPort + 1))).status).toBe(403);
    const other = (await sessions.create('someone-else')).session.id;
    expect((await get(appPort, '/', grantCookie(appPort), other)).status).toBe(403);
  });

  it("forwards to the app without the grant, keeping the app's own cookies on the preview host", async () => {
    const r = await get(appPort, '/x', `a=1; ${grantCookie(appPort)}; b=2`);
    expect(await r.text()).toBe('app saw GET /x');
    expect(seen.cookie).toBe('a=1; b=2');
    expect(seen.forwardedHost).toBe(new URL(hosts.url({ sessionId, port: appPort })).host);
    expect(r.headers.get('set-cookie')).toBe('theme=dark; Path=/');
  });

  it('says so when nothing answers on the port', async () => {
    const closed = appPort === 1 ? 2 : 1;
    const r = await get(closed, '/', grantCookie(closed));
    expect(r.status).toBe(502);
    expect(await r.text()).toContain('Nothing answers on this port in your sandbox');
  });

  it('answers only preview hosts, and not for ended sessions', async () => {
    const proxyPort = (proxy.address() as AddressInfo).port;
    const r = await rawGet(proxyPort, '/api/health', {});
    expect(r.status).toBe(404);
    expect(await r.text()).toContain('not a Dockyard preview');
    const gone = await get(appPort, '/', grantCookie(appPort), 'fedcba9876543210');
    expect(gone.status).toBe(404);
  });

  it('carries WebSockets for the grant holder only', async () => {
    const proxyPort = (proxy.address() as AddressInfo).port;
    const host = new URL(hosts.url({ sessionId, port: appPort })).host;
    const open = (cookie?: string) =>
      new WebSocket(`ws://127.0.0.1:${proxyPort}/socket`, { headers: { host, ...(cookie ? { cookie } : {}) } });
    const ws = open(grantCookie(appPort));
    await once(ws, 'open');
    ws.send('hi');
    const [reply] = (await once(ws, 'message')) as [Buffer];
    expect(String(reply)).toBe('echo:hi');
    ws.close();
    const refused = open();
    const [, res] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(403);
  });

  it('keeps the port list live from engine events', async () => {
    const registry = new PublishedPortsRegistry(driver, sessions, new EngineEvents(driver, sessions));
    let containers: object[] = [];
    // The engine's reply as the probe's curl prints it: the body, then the status on its own line.
    driver.onExec = () => ({ exitCode: 0, stdout: `${JSON.stringify(containers)}\n200`, stderr: '' });
    const updates: number[][] = [];
    const stop = registry.subscribe(sessionId, (ports) => updates.push(ports.map((p) => p.port)));
    await expect.poll(() => updates).toEqual([[]]);
    containers = [{ Names: ['/web'], Image: 'nginx', Ports: [{ PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] }];
    driver.emit(sessions.sandboxOf(sessionId), 'container\tstart\t\t\tweb');
    await expect.poll(() => updates).toEqual([[], [8080]]);
    driver.emit(sessions.sandboxOf(sessionId), 'container\texec_start: sh\t\t\tweb');
    containers = [];
    driver.emit(sessions.sandboxOf(sessionId), 'container\tdie\t\t\tweb');
    await expect.poll(() => updates).toEqual([[], [8080], []]);
    stop();
  });

  it('reads the list again when a read fails, rather than showing no ports until the next event', async () => {
    const registry = new PublishedPortsRegistry(driver, sessions, new EngineEvents(driver, sessions));
    const containers = [
      { Names: ['/app'], Image: 'hello-app', Ports: [{ PrivatePort: 3000, PublicPort: 3000, Type: 'tcp' }] },
    ];
    let failing = false;
    // A busy sandbox: the read after the start event fails (curl could not start), once.
    driver.onExec = () => {
      if (!failing) return { exitCode: 0, stdout: '[]\n200', stderr: '' };
      failing = false;
      return { exitCode: 126, stdout: '', stderr: 'OCI runtime exec failed' };
    };
    const updates: number[][] = [];
    const stop = registry.subscribe(sessionId, (ports) => updates.push(ports.map((p) => p.port)));
    await expect.poll(() => updates).toEqual([[]]);
    failing = true;
    const answer = driver.onExec;
    driver.onExec = (...args) =>
      failing ? answer(...args) : { exitCode: 0, stdout: `${JSON.stringify(containers)}\n200`, stderr: '' };
    driver.emit(sessions.sandboxOf(sessionId), 'container\tstart\t\t\tapp');
    await expect.poll(() => updates, { timeout: 5000 }).toEqual([[], [3000]]);
    stop();
  });
});
