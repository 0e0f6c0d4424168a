// The preview proxy: its own listener, apart from the platform's, that forwards HTTP and WebSocket
// traffic for p<port>-<session>.<preview domain> to that port of the session's sandbox, for the
// holder of a grant only. It serves nothing else: no platform page or API is reachable through it.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SandboxDriver } from '../drivers/driver.ts';
import { errorCatalogue, type ErrorCode } from '../errors.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { PreviewGrants } from './preview-grants.ts';
import type { PreviewHosts, PreviewTarget } from './preview-hosts.ts';

export const GRANT_PARAM = 'dockyard-grant';
export const GRANT_COOKIE = 'dockyard_preview';

export interface PreviewProxyDeps {
  hosts: PreviewHosts;
  grants: PreviewGrants;
  sessions: SessionManager;
  driver: SandboxDriver;
  log: { warn(obj: object, msg: string): void };
}

/** Request headers that belong to one hop, not to the learner's app. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The Cookie header without our grant: the learner's app never sees it. */
function withoutGrant(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  const rest = cookie
    .split(/;\s*/)
    .filter((c) => c && !c.startsWith(`${GRANT_COOKIE}=`))
    .join('; ');
  return rest || undefined;
}

function grantCookieOf(cookie: string | undefined): string | undefined {
  const pair = cookie?.split(/;\s*/).find((c) => c.startsWith(`${GRANT_COOKIE}=`));
  return pair?.slice(GRANT_COOKIE.length + 1);
}

/**
 * A learner's app may set cookies for a parent domain (Domain=localhost), which the platform would
 * then receive. Keep every cookie on the preview's own host.
 */
export const hostOnlyCookie = (setCookie: string) => setCookie.replace(/;\s*domain=[^;]*/gi, '');

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What went wrong with a connection, in a word where there is one (ECONNREFUSED). */
const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** A small page in the learner's words, with the catalogue's code for whoever reads the logs. */
function page(res: ServerResponse, code: ErrorCode, detail: string): void {
  const { status, title, hint } = errorCatalogue[code];
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)} · Dockyard preview</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1b2430}
code{background:#eef1f5;padding:0 .25rem;border-radius:3px}small{color:#5b6675}</style>
<main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p>${escapeHtml(hint)}</p><small>Dockyard preview · ${code}</small></main></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

type Decision = { ok: true; target: PreviewTarget; sandboxId: string } | { ok: false; code: ErrorCode; detail: string };

/** Who may see what: the preview host names a live session and the request carries its grant. */
function decide(deps: PreviewProxyDeps, req: IncomingMessage): Decision {
  const target = deps.hosts.parse(req.headers.host);
  if (!target) return { ok: false, code: 'NOT_FOUND', detail: 'This address is not a Dockyard preview.' };
  const view = deps.sessions.viewOf(target.sessionId);
  if (!view || view.state === 'expired') {
    return { ok: false, code: 'SESSION_NOT_FOUND', detail: 'The sandbox behind this preview has ended.' };
  }
  if (!deps.grants.check(grantCookieOf(req.headers.cookie), 'cookie', target.sessionId, target.port)) {
    return {
      ok: false,
      code: 'PREVIEW_FORBIDDEN',
      detail: `Port ${target.port} of a sandbox is only shown to its learner.`,
    };
  }
  return { ok: true, target, sandboxId: deps.sessions.sandboxOf(target.sessionId) };
}

/** Reads the session a preview host names, when it was made by another server a moment ago. */
async function learnTarget(deps: PreviewProxyDeps, req: IncomingMessage): Promise<void> {
  const target = deps.hosts.parse(req.headers.host);
  if (target) await deps.sessions.ensure(target.sessionId).catch(() => undefined);
}

export function createPreviewServer(deps: PreviewProxyDeps): Server {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      deps.log.warn({ err }, 'preview request failed');
      if (!res.headersSent) page(res, 'INTERNAL', 'The preview could not be shown.');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await learnTarget(deps, req);
    const url = new URL(req.url ?? '/', 'http://preview');
    const link = url.searchParams.get(GRANT_PARAM);
    if (link !== null) return redeem(req, res, url, link);
    const d = decide(deps, req);
    if (!d.ok) return page(res, d.code, d.detail);
    const { sandboxId } = d;
    const { port } = d.target;
    let upstream: Duplex;
    try {
      upstream = await deps.driver.connect(sandboxId, port);
    } catch (err) {
      return page(res, 'PREVIEW_UNREACHABLE', `Port ${port} did not answer (${errorCode(err)}).`);
    }
    forward(req, res, upstream, port);
  }

  /** Exchanges a link grant for the preview's own cookie, then shows the clean URL. */
  function redeem(req: IncomingMessage, res: ServerResponse, url: URL, link: string): void {
    const target = deps.hosts.parse(req.headers.host);
    const view = target && deps.sessions.viewOf(target.sessionId);
    if (!target || !view) return page(res, 'SESSION_NOT_FOUND', 'The sandbox behind this preview has ended.');
    url.searchParams.delete(GRANT_PARAM);
    const clean = `${url.pathname}${url.search}`;
    const headers: Record<string, string> = { location: clean, 'cache-control': 'no-store' };
    if (deps.grants.check(link, 'link', target.sessionId, target.port)) {
      const cookie = deps.grants.issue('cookie', target.sessionId, target.port, view.expiresAt);
      const maxAge = Math.max(0, Math.floor((view.expiresAt - Date.now()) / 1000));
      const secure = deps.hosts.secure ? '; Secure' : '';
      headers['set-cookie'] = `${GRANT_COOKIE}=${cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
    } else if (!deps.grants.check(grantCookieOf(req.headers.cookie), 'cookie', target.sessionId, target.port)) {
      return page(res, 'PREVIEW_FORBIDDEN', 'This preview link has expired or is not valid.');
    }
    res.writeHead(303, headers);
    res.end();
  }

  function forward(req: IncomingMessage, res: ServerResponse, connection: Duplex, port: number): void {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const cookie = withoutGrant(req.headers.cookie);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = deps.hosts.secure ? 'https' : 'http';
    // One request per connection: the driver's connection may be a relay, not a socket an agent could keep.
    headers.connection = 'close';
    const upstream = request({
      createConnection: () => connection as Socket,
      method: req.method,
      path: req.url,
      headers,
    });
    upstream.on('response', (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (v === undefined || k === 'connection' || k === 'keep-alive') continue;
        out[k] = k === 'set-cookie' ? (v as string[]).map(hostOnlyCookie) : v;
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return void res.destroy();
      page(res, 'PREVIEW_UNREACHABLE', `Port ${port} did not answer (${errorCode(err)}).`);
    });
    res.on('close', () => {
      upstream.destroy();
      connection.destroy();
    });
    req.pipe(upstream);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: string) =>
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    void learnTarget(deps, req).then(() => {
      const d = decide(deps, req);
      if (!d.ok) return refuse(d.code === 'PREVIEW_FORBIDDEN' ? '403 Forbidden' : '404 Not Found');
      deps.driver.connect(d.sandboxId, d.target.port).then(
        (up) => tunnel(req, socket, head, up),
        () => refuse('502 Bad Gateway'),
      );
    });
  });

  /** WebSocket (and any other upgrade): replay the request upstream, then join the two connections. */
  function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, up: Duplex): void {
    up.on('error', () => socket.destroy());
    socket.on('close', () => up.destroy());
    up.on('close', () => socket.destroy());
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (name.toLowerCase() === 'cookie') continue;
      lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    const cookie = withoutGrant(req.headers.cookie);
    if (cookie) lines.push(`Cookie: ${cookie}`);
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    socket.pipe(up).pipe(socket);
  }

  return server;
}
