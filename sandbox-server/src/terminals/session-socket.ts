// The session WebSocket: checks who may connect, then routes typed messages to terminals.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { TicketIssuer } from '../identity/tickets.ts';
import { ApiError, errorCatalogue, type ErrorCode } from '../errors.ts';
import { clientMessageSchema, CLOSE_CODES, type ClientMessage, type ServerMessage } from '../protocol/messages.ts';
import type { Grading } from '../grader/grading.ts';
import type { SandboxMapRegistry } from '../map/sandbox-map.ts';
import type { PublishedPortsRegistry } from '../previews/published-ports.ts';
import { FIRST_NODE, nodeKey, type SessionManager } from '../sessions/session-manager.ts';
import type { Classroom } from '../workshops/classroom.ts';
import type { Sink, Terminal } from './terminal.ts';
import type { TerminalRegistry } from './terminal-registry.ts';

export interface SocketDeps {
  sessions: SessionManager;
  terminals: TerminalRegistry;
  tickets: TicketIssuer;
  ports: PublishedPortsRegistry;
  map: SandboxMapRegistry;
  grading: Grading;
  /** Tells the learner when an instructor watches, and relays broadcasts. */
  classroom: Pick<Classroom, 'attachLearner'>;
  allowedOrigins: readonly string[];
}

type SessionParams = { Params: { id: string }; Querystring: { ticket?: string } };

const errorMessage = (code: ErrorCode, term?: string): ServerMessage => ({
  type: 'error',
  code,
  title: errorCatalogue[code].title,
  hint: errorCatalogue[code].hint,
  ...(term ? { term } : {}),
});

/**
 * Refuses the upgrade before it happens: a foreign Origin (cross-site WebSocket hijacking) or a
 * missing, expired or someone else's ticket.
 */
export function checkUpgrade(req: FastifyRequest<SessionParams>, deps: SocketDeps): void {
  const origin = req.headers.origin;
  if (!origin || !deps.allowedOrigins.includes(origin)) {
    throw new ApiError('WS_ORIGIN_REFUSED', `Origin ${origin ?? '(none)'} is not allowed.`);
  }
  const claims = deps.tickets.check(req.query.ticket, req.params.id);
  if (!claims) throw new ApiError('WS_TICKET_INVALID');
  deps.sessions.owned(req.params.id, claims.ownerId);
}

export function sessionSocketRoute(app: FastifyInstance, deps: SocketDeps): void {
  app.get<SessionParams>(
    '/api/sessions/:id/ws',
    { websocket: true, preValidation: async (req) => checkUpgrade(req, deps) },
    (socket, req) => serve(socket, req.params.id, deps),
  );
}

function serve(socket: WebSocket, sessionId: string, deps: SocketDeps): void {
  const { sessions, terminals } = deps;
  const shown = new Set<Terminal>();
  // A session that ends takes its shells with it: their exits are not news (the learner is told
  // the sandbox ended), so none is sent once the session is gone. A reset keeps the session, and
  // its old shells' exits are sent.
  const toTerminal: Sink = (msg) => {
    if (msg.type !== 'exit' || sessions.viewOf(sessionId)) send(msg);
  };
  const opening = new Map<string, Promise<Terminal>>();
  const send = (msg: ServerMessage) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  };

  const unsubscribe = sessions.subscribe(sessionId, (e) => {
    send({ type: 'session', ...e });
    if (e.nodes) followNodes(e.nodes);
    if (e.state === 'expired' || e.reason === 'reset') terminals.closeSession(sessionId);
    if (e.state === 'expired') socket.close(CLOSE_CODES.sessionGone, 'session ended');
  });
  const view = sessions.viewOf(sessionId);
  if (view) send({ type: 'session', state: view.state, expiresAt: view.endsAt, nodes: view.nodes });
  const unwatchPorts = deps.ports.subscribe(sessionId, (ports) => send({ type: 'ports', ports }));
  // One map per node: node1's from the start, the others' as they come (and gone as they go).
  const maps = new Map<string, () => void>();
  const followNodes = (nodes: readonly string[]) => {
    for (const [node, stop] of maps) {
      if (nodes.includes(node)) continue;
      stop();
      maps.delete(node);
    }
    for (const node of nodes) {
      if (maps.has(node)) continue;
      const stop = deps.map.subscribe(nodeKey(sessionId, node), (map) =>
        send({ type: 'map', map, ...(node === FIRST_NODE ? {} : { node }) }),
      );
      maps.set(node, stop);
    }
  };
  followNodes(view?.nodes ?? [FIRST_NODE]);
  let stopLive: (() => void) | undefined;
  let closed = false;
  let detachClass: (() => void) | undefined;
  void deps.classroom.attachLearner(sessionId, send).then(
    (detach) => (closed ? detach() : (detachClass = detach)),
    () => undefined,
  );

  // One bad moment must not take the process down: an async handler's throw would be an
  // unhandled rejection, which ends Node.
  socket.on('message', (raw) => void handle(raw).catch(() => send(errorMessage('INTERNAL'))));
  // A broken connection emits 'error' and then 'close'; 'close' does the clean-up.
  socket.on('error', () => undefined);

  async function handle(raw: unknown): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(raw));
    } catch {
      return send(errorMessage('BAD_MESSAGE'));
    }
    const result = clientMessageSchema.safeParse(parsed);
    if (!result.success) return send(errorMessage('BAD_MESSAGE'));
    const msg = result.data;
    if (msg.type === 'ping') return send({ type: 'pong', at: msg.at });
    if (msg.type === 'grade' || msg.type === 'live') return gradeMessage(msg);
    if (!sessions.viewOf(sessionId)) return socket.close(CLOSE_CODES.sessionGone, 'session ended');
    // Input, resizes and acks for a terminal still opening wait for it, rather than being lost.
    // (No await unless one is pending: an open must register itself before the next message runs.)
    const open = terminals.get(sessionId, msg.term);
    const pending = open ? undefined : opening.get(msg.term);
    const term = open ?? (pending && (await pending.catch(() => undefined)));
    switch (msg.type) {
      case 'open': {
        const opened = (async () => {
          const sandboxId = sessions.sandboxOf(nodeKey(sessionId, msg.node ?? FIRST_NODE));
          const t = term ?? (await terminals.open(sessionId, sandboxId, msg.term, { cols: msg.cols, rows: msg.rows }));
          if (term) await t.resize(msg.cols, msg.rows);
          return t;
        })();
        opening.set(msg.term, opened);
        try {
          const t = await opened;
          terminals.cancelClose(t);
          shown.add(t);
          // A shell this server shows for the first time may still be an old one (kept in the sandbox).
          send({ type: 'opened', term: msg.term, reattached: Boolean(term) || t.kept });
          t.attach(toTerminal);
        } catch (err) {
          send(errorMessage(err instanceof ApiError ? err.code : 'SANDBOX_FAILED', msg.term));
        } finally {
          if (opening.get(msg.term) === opened) opening.delete(msg.term);
        }
        return;
      }
      case 'input':
        sessions.touch(sessionId);
        return term?.input(msg.data);
      case 'resize':
        return void term?.resize(msg.cols, msg.rows).catch(() => undefined);
      case 'ack':
        return term?.ack(msg.bytes);
      case 'close':
        if (term) shown.delete(term);
        return term?.close();
    }
  }

  async function gradeMessage(msg: Extract<ClientMessage, { type: 'grade' | 'live' }>): Promise<void> {
    try {
      if (msg.type === 'grade') {
        return send({ type: 'grade', live: false, report: await deps.grading.grade(sessionId, msg.exercise) });
      }
      stopLive?.();
      stopLive = undefined;
      if (msg.exercise) {
        stopLive = deps.grading.watch(sessionId, msg.exercise, (report) => send({ type: 'grade', live: true, report }));
      }
    } catch (err) {
      send(errorMessage(err instanceof ApiError ? err.code : 'INTERNAL'));
    }
  }

  socket.on('close', () => {
    closed = true;
    detachClass?.();
    unsubscribe();
    unwatchPorts();
    for (const stop of maps.values()) stop();
    stopLive?.();
    for (const t of shown) {
      t.detach(toTerminal);
      terminals.scheduleClose(t);
    }
  });
}
