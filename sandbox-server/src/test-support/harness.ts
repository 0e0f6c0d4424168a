// Integration-test harness: a real server on the real engine, and clients that talk to it as a browser would.
import { once } from 'node:events';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { buildApp } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import type { DashboardServerMessage } from '../protocol/dashboard.ts';
import type { Store } from '../store/store.ts';
import type { Previews } from '../app.ts';
import { createPlatform, listenPreviews, type PlatformDriver } from '../platform.ts';
import { SERVER_LABEL, type SessionManager } from '../sessions/session-manager.ts';

export const TEST_ORIGIN = 'http://dockyard.test';

export interface TestServer {
  url: string;
  /** Labels every sandbox this server makes. */
  instanceId: string;
  config: Config;
  driver: PlatformDriver;
  previews: Previews;
  sessions: SessionManager;
  store: Store;
  stop(): Promise<void>;
}

/** Starts the whole server in this process with small sandboxes; `env` overrides any setting. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-data-'));
  // Others may pass through (not list): runsc opens the sandboxes' disks under it as the remapped root.
  chmodSync(dataDir, 0o711);
  const config = loadConfig({
    DOCKYARD_PUBLIC_URL: TEST_ORIGIN,
    DOCKYARD_DATA_DIR: dataDir,
    DOCKYARD_LOG_LEVEL: 'warn',
    DOCKYARD_WARM_POOL_SIZE: '0',
    DOCKYARD_SANDBOX_MEMORY_MB: '1024',
    DOCKYARD_SANDBOX_STORAGE_MB: '2048',
    DOCKYARD_PREVIEW_PORT: String(await freePort()),
    // Tests make many sessions from one address; the limit's own test turns it back on.
    DOCKYARD_SANDBOX_CREATE_LIMIT: '0',
    DOCKYARD_SIGN_IN_LIMIT: '0',
    DOCKYARD_SIGN_UP_LIMIT: '0',
    ...env,
  });
  const logger = pino({ level: config.logLevel });
  const platform = await createPlatform(config, logger);
  const { driver, sessions, instanceId } = platform;
  await driver.checkRuntime();
  const app = await buildApp({ config, engine: platform.engine, logger, platform });
  await sessions.start();
  platform.startBackground();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const closePreviews = await listenPreviews(config, platform, logger);
  const address = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    previews: platform.previews,
    instanceId,
    config,
    driver,
    sessions,
    store: platform.store,
    async stop() {
      platform.stopLive();
      await closePreviews();
      // Drains the pool (waiting out a sandbox it is starting) before the sweep below.
      await sessions.stop();
      const own = (await driver.list()).filter((s) => s.labels[SERVER_LABEL] === instanceId);
      await Promise.all(own.map((s) => driver.remove(s.id)));
      const networks = (await driver.listPeerNetworks()).filter((n) => n.labels[SERVER_LABEL] === instanceId);
      await Promise.all(networks.map((n) => driver.removePeerNetwork(n.id)));
      await app.close();
      await platform.closeStore();
    },
  };
}

/** A port nothing listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A learner as the lesson page has them: a session, and a terminal `term` open on its socket. */
export async function learnerWithTerminal(
  server: TestServer,
  term = 't1',
): Promise<{ client: TestClient; sessionId: string; socket: TestSocket }> {
  const client = new TestClient(server.url);
  const sessionId = await client.createSession();
  const socket = await client.connect(sessionId);
  await socket.open(term);
  return { client, sessionId, socket };
}

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** One browser: keeps its cookies, sends the platform's Origin and the CSRF token, as the site does. */
export class TestClient {
  readonly base: string;
  readonly cookies = new Map<string, string>();

  constructor(base: string) {
    this.base = base;
  }

  /** The same browser (its cookies) talking to another address: one server of several, say. */
  at(base: string): TestClient {
    const other = new TestClient(base);
    for (const [k, v] of this.cookies) other.cookies.set(k, v);
    return other;
  }

  /** The Cookie header this browser sends. */
  get cookie(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async req<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const csrf = this.cookies.get('dockyard_csrf');
    const res = await fetch(`${this.base}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        origin: TEST_ORIGIN,
        ...(this.cookies.size ? { cookie: this.cookie } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': decodeURIComponent(csrf) } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = set.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || pair.slice(eq + 1) === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json');
    return {
      status: res.status,
      body: (text && json ? JSON.parse(text) : text || undefined) as T,
      headers: res.headers,
    };
  }

  async createSession(): Promise<string> {
    const r = await this.req<{ session: { id: string } }>('POST', '/api/sessions', {});
    if (r.status !== 201 && r.status !== 200) throw new Error(`create failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.session.id;
  }

  async ticket(sessionId: string): Promise<string> {
    const r = await this.req<{ ticket: string }>('POST', `/api/sessions/${sessionId}/ticket`, {});
    if (r.status !== 200) throw new Error(`ticket failed: ${r.status}`);
    return r.body.ticket;
  }

  async connect(sessionId: string, origin = TEST_ORIGIN): Promise<TestSocket> {
    const ticket = await this.ticket(sessionId);
    const ws = new WebSocket(`${this.base.replace('http', 'ws')}/api/sessions/${sessionId}/ws?ticket=${ticket}`, {
      headers: { origin },
    });
    // Listen before the upgrade completes: the first message can arrive in the same packet.
    const socket = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return socket;
  }

  /** Opens a workshop's live dashboard as this browser (its cookies, the platform's Origin). */
  async dashboard(workshopId: string): Promise<TestSocket<DashboardServerMessage>> {
    const ws = new WebSocket(`${this.base.replace('http', 'ws')}/api/workshops/${workshopId}/live`, {
      headers: { origin: TEST_ORIGIN, cookie: this.cookie },
    });
    const socket = new TestSocket<DashboardServerMessage>(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return socket;
  }
}

/** A session WebSocket that records messages and acknowledges output like the site does. */
export class TestSocket<M extends { type: string } = ServerMessage> {
  readonly ws: WebSocket;
  readonly messages: M[] = [];
  readonly #outputs = new Map<string, string>();
  closeCode: number | undefined;
  autoAck = true;
  /** The server of the deployment that took the connection (its X-Dockyard-Replica). */
  replica: string | undefined;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('upgrade', (res) => (this.replica = String(res.headers['x-dockyard-replica'] ?? '')));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as M & { type: string; term: string; data: string };
      this.messages.push(msg);
      if (msg.type === 'output' || msg.type === 'watch-output') {
        this.#outputs.set(msg.term, (this.#outputs.get(msg.term) ?? '') + msg.data);
        if (this.autoAck) this.send({ type: 'ack', term: msg.term, bytes: msg.data.length });
      }
    });
    ws.on('close', (code) => (this.closeCode = code));
  }

  send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }

  output(term: string): string {
    return this.#outputs.get(term) ?? '';
  }

  async open(term: string, o: { cols?: number; rows?: number; node?: string } = {}): Promise<boolean> {
    const { cols = 80, rows = 24, node } = o;
    this.send({ type: 'open', term, cols, rows, ...(node ? { node } : {}) });
    const opened = (await this.waitFor((m) => m.type === 'opened' && (m as { term?: string }).term === term)) as {
      reattached?: boolean;
    };
    return opened.reattached === true;
  }

  /** Types a line and waits until the terminal's output matches `expect`. */
  async run(term: string, line: string, expect: RegExp, timeoutMs = 30_000): Promise<string> {
    const before = this.output(term).length;
    this.send({ type: 'input', term, data: `${line}\r` });
    await this.until(() => expect.test(this.output(term).slice(before)), timeoutMs, `output matching ${expect}`);
    return this.output(term).slice(before);
  }

  waitFor(pred: (m: M) => boolean, timeoutMs = 30_000): Promise<M> {
    return this.until(() => this.messages.find(pred), timeoutMs, 'message');
  }

  async until<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) {
        const tail = JSON.stringify(this.messages.slice(-5));
        throw new Error(`timed out waiting for ${what}; last messages: ${tail}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === this.ws.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** A GET to the preview proxy for a preview URL, as a browser would send it (Host included). */
export function openPreview(
  url: string,
  cookie?: string,
): Promise<{ status: number; location?: string; setCookie?: string; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port: u.port,
        path: `${u.pathname}${u.search}`,
        headers: { host: u.host, ...(cookie ? { cookie } : {}) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            setCookie: res.headers['set-cookie']?.[0],
            body,
          }),
        );
      },
    )
      .on('error', reject)
      .end();
  });
}
