// REST for sessions: create, get, reset, extend, end, a WebSocket ticket, the editor's files and the sandbox map.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../errors.ts';
import type { SandboxDriver } from '../drivers/driver.ts';
import { SandboxFiles } from '../files/sandbox-files.ts';
import type { TicketIssuer } from '../identity/tickets.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Previews } from '../app.ts';
import type { Grading } from '../grader/grading.ts';
import type { SandboxMapRegistry } from '../map/sandbox-map.ts';
import { RateLimiter } from '../identity/rate-limit.ts';
import type { RateEvents } from '../store/rate-events.ts';
import { LINK_TTL_MS } from '../previews/preview-grants.ts';
import { GRANT_PARAM } from '../previews/preview-proxy.ts';
import { nodeName } from '../protocol/messages.ts';
import { FIRST_NODE, nodeKey } from '../sessions/session-manager.ts';
import { SWARM_TEMPLATE_IDS, SWARM_TEMPLATES } from '../sessions/swarm-template.ts';

export interface SessionRouteDeps {
  sessions: SessionManager;
  driver: SandboxDriver;
  tickets: TicketIssuer;
  previews: Previews;
  grading: Grading;
  map: SandboxMapRegistry;
  /** The caller's identity (cookie today, accounts later). */
  ownerOf: (req: FastifyRequest, reply: import('fastify').FastifyReply) => Promise<string>;
  fileMaxBytes: number;
  /** New sandboxes per client address per hour (0: no limit). */
  createLimitPerHour: number;
  /** Where the limit's events are kept: the store, so every server counts the same. */
  rateEvents: RateEvents;
  onCreated?: (ms: number, fromPool: boolean) => void;
}

const createBody = z
  .object({
    lesson: z
      .string()
      .regex(/^[a-z0-9-]{1,80}$/)
      .optional(),
  })
  .optional();
const gradeBody = z.object({
  exercise: z
    .string()
    .regex(/^[a-z0-9-]{1,80}$/)
    .describe('The exercise id'),
});
const startBody = z.object({
  overwrite: z.boolean().default(false).describe("Replace the learner's own files of the same names"),
});
const previewBody = z.object({
  port: z.number().int().min(1).max(65535).describe('The port published in the sandbox'),
  path: z.string().startsWith('/').max(2048).default('/').describe('Where to open the preview'),
});
const nodeField = nodeName.default(FIRST_NODE).describe('The node whose files these are (node1 when absent)');
const pathQuery = z.object({ path: z.string().max(4096).default(''), node: nodeField });
const nodeQuery = z.object({ node: nodeField });
const templateBody = z.object({
  template: z.enum(SWARM_TEMPLATE_IDS).describe('swarm-1-2: 1 manager + 2 workers; swarm-3-2: 3 managers + 2 workers'),
});
const writeBody = z.object({
  content: z.string(),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
});

/** The body as the schema has it, or BAD_REQUEST naming each wrong field (in `detail`, and in `fields` for forms). */
export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const fields: Record<string, string> = {};
    for (const i of r.error.issues) fields[i.path.join('.') || 'body'] ??= i.message;
    throw new ApiError(
      'BAD_REQUEST',
      Object.entries(fields)
        .map(([field, message]) => `${field}: ${message}`)
        .join('; '),
      { fields },
    );
  }
  return r.data;
}

type WithId = { Params: { id: string } };

export function sessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): void {
  const { sessions } = deps;
  // A session another server made a moment ago (the load balancer sent this request here) is read
  // from the store before anything looks for it; its socket's upgrade included.
  app.addHook('onRequest', async (req) => {
    const id = (req.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && req.routeOptions.url?.startsWith('/api/sessions/:id')) await sessions.ensure(id);
  });
  /** The session of this request's owner; also counts as activity. */
  const ownedSession = async (req: FastifyRequest<WithId>, reply: import('fastify').FastifyReply) => {
    const r = sessions.owned(req.params.id, await deps.ownerOf(req, reply));
    sessions.touch(r.id);
    return r;
  };
  const filesOf = (sessionId: string, node: string = FIRST_NODE) =>
    new SandboxFiles((cmd, o) => deps.driver.exec(sessions.sandboxOf(nodeKey(sessionId, node)), cmd, o), {
      root: '/root/work',
      maxBytes: deps.fileMaxBytes,
    });
  /** Every exercise's starter content for each path: a file equal to one of them is no one's work. */
  const starters = new Map<string, Set<string>>();
  for (const e of deps.grading.list())
    for (const [path, content] of Object.entries(e.starter.files))
      starters.set(path, (starters.get(path) ?? new Set()).add(content));
  const isSomeStarter = (path: string, content: string) => starters.get(path)?.has(content) ?? false;

  app.get('/api/sessions', async (req, reply) => ({ sessions: sessions.listFor(await deps.ownerOf(req, reply)) }));

  const creations = new RateLimiter(deps.createLimitPerHour, 3_600_000, {
    events: deps.rateEvents,
    bucket: 'sandbox-create',
  });
  /** A new sandbox (a session's first, or a node) counts against its client's hourly limit. */
  const takeCreation = async (req: FastifyRequest, count = 1) => {
    for (let i = 0; i < count; i++) {
      const taken = await creations.take(req.ip);
      if (!taken.ok) throw new ApiError('RATE_LIMITED', undefined, { retryAfterSeconds: taken.retryAfterSeconds });
    }
  };
  app.post('/api/sessions', async (req, reply) => {
    const body = parse(createBody, req.body);
    // Only a new sandbox counts: a learner's existing session is returned whatever the limit.
    if (sessions.listFor(await deps.ownerOf(req, reply)).length === 0) await takeCreation(req);
    const started = performance.now();
    const takenBefore = sessions.pool.taken();
    const { session, created } = await sessions.create(await deps.ownerOf(req, reply), body?.lesson);
    if (created) deps.onCreated?.(performance.now() - started, sessions.pool.taken() > takenBefore);
    return reply.status(created ? 201 : 200).send({ session });
  });

  app.get<WithId>('/api/sessions/:id', async (req, reply) => ({
    session: sessions.view(await ownedSession(req, reply)),
  }));

  app.post<WithId>('/api/sessions/:id/ticket', async (req, reply) => {
    const r = await ownedSession(req, reply);
    const { ticket, expiresAt } = deps.tickets.issue({ sessionId: r.id, ownerId: r.ownerId });
    return { ticket, expiresAt, url: `/api/sessions/${r.id}/ws?ticket=${encodeURIComponent(ticket)}` };
  });

  app.post<WithId>('/api/sessions/:id/reset', async (req, reply) => ({
    session: await sessions.reset((await ownedSession(req, reply)).id),
  }));

  app.post<WithId>('/api/sessions/:id/extend', async (req, reply) => ({
    session: sessions.extend((await ownedSession(req, reply)).id),
  }));

  app.delete<WithId>('/api/sessions/:id', async (req, reply) => {
    await sessions.destroy((await ownedSession(req, reply)).id, 'ended');
    return reply.status(204).send();
  });

  // Nodes: more sandboxes in the same session, on a private network of their own (the playground).
  app.post<WithId>('/api/sessions/:id/nodes', async (req, reply) => {
    const r = await ownedSession(req, reply);
    // A node refused for the session's own limit costs no sandbox creation.
    sessions.checkRoomForNode(r.id);
    await takeCreation(req);
    const added = await sessions.addNode(r.id);
    return reply.status(201).send(added);
  });

  app.delete<{ Params: { id: string; node: string } }>('/api/sessions/:id/nodes/:node', async (req, reply) => {
    const r = await ownedSession(req, reply);
    const { node } = parse(z.object({ node: nodeName }), req.params);
    return { session: await sessions.removeNode(r.id, node) };
  });

  // A template: the nodes it needs, formed into a Swarm. Progress goes to the session's WebSocket.
  app.post<WithId>('/api/sessions/:id/template', async (req, reply) => {
    const r = await ownedSession(req, reply);
    const { template } = parse(templateBody, req.body);
    const t = SWARM_TEMPLATES[template];
    await takeCreation(req, Math.max(0, t.managers + t.workers - sessions.nodeCount(r.id)));
    return { session: await sessions.applyTemplate(r.id, template) };
  });

  app.post<WithId>('/api/sessions/:id/grade', async (req, reply) => {
    const r = await ownedSession(req, reply);
    const { exercise } = parse(gradeBody, req.body);
    return { report: await deps.grading.grade(r.id, exercise) };
  });

  // Puts an exercise's starting point in ~/work: its files, then its setup script. A file already
  // there is the learner's work and is kept (unless `overwrite`), except when it is, unchanged, some
  // exercise's starter file: an earlier lesson's `server.js` the learner never touched is replaced.
  app.post<{ Params: { id: string; exercise: string } }>(
    '/api/sessions/:id/exercises/:exercise/start',
    async (req, reply) => {
      const r = await ownedSession(req, reply);
      const exercise = deps.grading.exercise(req.params.exercise);
      const { overwrite } = parse(startBody, req.body ?? {});
      const files = filesOf(r.id);
      const written: string[] = [];
      const kept: string[] = [];
      for (const [path, content] of Object.entries(exercise.starter.files)) {
        const current = await files.read(path).then(
          (f) => f,
          () => undefined,
        );
        const untouched = current !== undefined && isSomeStarter(path, current.content);
        if (current !== undefined && !overwrite && !untouched) kept.push(path);
        else written.push((await files.write(path, content)).path);
      }
      if (exercise.starter.setup) {
        const s = await deps.driver.exec(r.sandboxId, ['bash', '-e', '-c', exercise.starter.setup], {
          timeoutMs: 120_000,
        });
        if (s.exitCode !== 0)
          throw new ApiError('SANDBOX_FAILED', `The exercise's setup failed: ${s.stderr.trim().slice(0, 300)}`);
      }
      deps.grading.fileSaved(r.id);
      return { written, kept };
    },
  );

  app.get<WithId>('/api/sessions/:id/ports', async (req, reply) => {
    const r = await ownedSession(req, reply);
    // None to show while its engine does not answer (the page's live list tries again by itself).
    const ports = await deps.previews.ports.list(r.id).catch(() => []);
    return {
      ports: ports.map((p) => ({ ...p, previewUrl: deps.previews.hosts.url({ sessionId: r.id, port: p.port }) })),
    };
  });

  app.get<WithId>('/api/sessions/:id/map', async (req, reply) => {
    const { node } = parse(nodeQuery, req.query);
    return { map: await deps.map.list(nodeKey((await ownedSession(req, reply)).id, node)) };
  });

  // A link that opens one port's preview for two minutes; the preview origin swaps it for its own cookie.
  app.post<WithId>('/api/sessions/:id/previews', async (req, reply) => {
    const r = await ownedSession(req, reply);
    const { port, path } = parse(previewBody, req.body);
    const expiresAt = Math.min(Date.now() + LINK_TTL_MS, r.expiresAt);
    const grant = deps.previews.grants.issue('link', r.id, port, expiresAt);
    const url = new URL(deps.previews.hosts.url({ sessionId: r.id, port }, path));
    url.searchParams.set(GRANT_PARAM, grant);
    return { url: url.toString(), expiresAt };
  });

  app.get<WithId>('/api/sessions/:id/files', async (req, reply) => {
    const { path, node } = parse(pathQuery, req.query);
    return { entries: await filesOf((await ownedSession(req, reply)).id, node).list(path || undefined) };
  });

  app.get<WithId>('/api/sessions/:id/file', async (req, reply) => {
    const { path, node } = parse(pathQuery, req.query);
    return filesOf((await ownedSession(req, reply)).id, node).read(path);
  });

  app.put<WithId>(
    '/api/sessions/:id/file',
    { bodyLimit: Math.ceil(deps.fileMaxBytes * 1.4) + 4096 },
    async (req, reply) => {
      const { path, node } = parse(pathQuery, req.query);
      const body = parse(writeBody, req.body);
      const r = await ownedSession(req, reply);
      const written = await filesOf(r.id, node).write(path, body.content, body.encoding);
      deps.grading.fileSaved(r.id);
      return written;
    },
  );
}
