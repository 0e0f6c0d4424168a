// Workshops: instructors create them and run them from a live dashboard; learners join by code.
import { outline } from '@dockyard/content';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { ApiError, errorCatalogue } from '../errors.ts';
import type { Accounts } from '../identity/accounts.ts';
import { RateLimiter } from '../identity/rate-limit.ts';
import type { PublicWorkshopView, WorkshopView } from '../protocol/api.ts';
import { dashboardClientMessageSchema, type DashboardServerMessage } from '../protocol/dashboard.ts';
import type { Store, User, Workshop } from '../store/store.ts';
import type { Classroom } from '../workshops/classroom.ts';
import { parse } from './sessions.ts';

const lessonSlugs = new Set(outline.flatMap((m) => m.lessons.map((l) => l.slug)));
/** Unknown join codes one address may try in 10 minutes before lookups are refused: enough for a class behind one NAT to mistype, far too few to guess one of 32^6 codes. */
export const WRONG_CODES_PER_10_MIN = 100;
/** Most learners one workshop may seat. */
export const MAX_SEATS = 500;

const createBody = z
  .object({
    title: z.string().trim().min(1).max(120).describe('Shown to learners when they join'),
    lessons: z
      .array(z.string().refine((s) => lessonSlugs.has(s), 'not a lesson of the course'))
      .min(1)
      .max(50)
      .describe('Lesson slugs, in the order the class takes them'),
    startsAt: z.number().int().positive().describe('ms since the epoch'),
    endsAt: z.number().int().positive().describe('ms since the epoch; after startsAt'),
    seatLimit: z.number().int().min(1).max(MAX_SEATS),
  })
  .refine((w) => w.endsAt > w.startsAt, { message: 'must be after startsAt', path: ['endsAt'] });
const changeBody = z
  .object({
    title: z.string().trim().min(1).max(120).optional(),
    seatLimit: z.number().int().min(1).max(MAX_SEATS).optional(),
    endsAt: z.number().int().positive().optional().describe('ms since the epoch'),
  })
  .describe('Only the fields to change');
const joinBody = z.object({ displayName: z.string().trim().max(40).optional() }).optional();
const broadcastBody = z.object({ text: z.string().trim().min(1).max(500) });

type WithId = { Params: { id: string } };
type WithCode = { Params: { code: string } };

export interface WorkshopRouteDeps {
  accounts: Accounts;
  store: Store;
  classroom: Classroom;
  allowedOrigins: readonly string[];
}

export function workshopRoutes(app: FastifyInstance, deps: WorkshopRouteDeps): void {
  const { accounts, store, classroom } = deps;
  const view = async (w: Workshop): Promise<WorkshopView> => ({
    id: w.id,
    code: w.code,
    title: w.title,
    lessons: w.lessons,
    startsAt: w.startsAt,
    endsAt: w.endsAt,
    seatLimit: w.seatLimit,
    joinUrl: classroom.joinUrl(w),
    members: (await store.membersOf(w.id)).length,
  });

  /** The workshop, if this request's user runs it (its owner, or an admin). */
  const managed = async (req: FastifyRequest<WithId>, reply: FastifyReply): Promise<[Workshop, User]> => {
    const user = await accounts.require(req, reply, 'instructor', 'admin');
    const w = await store.getWorkshop(req.params.id);
    if (!w || (w.ownerId !== user.id && user.role !== 'admin')) throw new ApiError('WORKSHOP_NOT_FOUND');
    return [w, user];
  };
  // Codes are short enough to read aloud, so guessing them is slowed: each unknown code counts,
  // and past WRONG_CODES_PER_10_MIN from one address every lookup is refused for a while.
  const wrongCodes = new RateLimiter(WRONG_CODES_PER_10_MIN, 10 * 60_000, {
    events: store.rateEvents,
    bucket: 'join-code',
  });
  const byCode = async (req: FastifyRequest<WithCode>) => {
    const blocked = await wrongCodes.peek(req.ip);
    if (!blocked.ok) throw new ApiError('TOO_MANY_JOIN_TRIES', undefined, blocked);
    const w = await store.findWorkshopByCode(req.params.code);
    if (!w) {
      await wrongCodes.take(req.ip);
      throw new ApiError('WORKSHOP_NOT_FOUND');
    }
    return w;
  };

  app.post('/api/workshops', async (req, reply) => {
    const user = await accounts.require(req, reply, 'instructor', 'admin');
    const body = parse(createBody, req.body);
    const w = await store.createWorkshop({ ...body, ownerId: user.id });
    return reply.status(201).send({ workshop: await view(w) });
  });

  app.get('/api/workshops', async (req, reply) => {
    const user = await accounts.require(req, reply, 'instructor', 'admin');
    const list = await store.listWorkshops(user.role === 'admin' ? undefined : user.id);
    return { workshops: await Promise.all(list.map(view)) };
  });

  app.get<WithCode>('/api/workshops/join/:code', async (req) => {
    const w = await byCode(req);
    const owner = await store.getUser(w.ownerId);
    const taken = (await store.membersOf(w.id)).length;
    return {
      workshop: {
        code: w.code,
        title: w.title,
        lessons: w.lessons,
        startsAt: w.startsAt,
        endsAt: w.endsAt,
        seatsLeft: Math.max(0, w.seatLimit - taken),
        instructor: owner?.displayName ?? 'Your instructor',
      } satisfies PublicWorkshopView,
    };
  });

  app.post<WithCode>('/api/workshops/join/:code', async (req, reply) => {
    const w = await byCode(req);
    const user = await accounts.identify(req, reply);
    const given = parse(joinBody, req.body)?.displayName;
    const displayName = given || (user.authId ? user.displayName : '');
    if (!displayName) throw new ApiError('DISPLAY_NAME_REQUIRED');
    if (Date.now() >= w.endsAt) throw new ApiError('WORKSHOP_OVER');
    if (!user.authId) await store.ensureGuest(user.id);
    const member = await store.join(w.id, user.id, displayName);
    // A guest is known by the name they gave (on the admin page too).
    if (!user.authId && given) await store.setDisplayName(user.id, given);
    classroom.changed();
    return { workshop: await view(w), member: { displayName: member.displayName, joinedAt: member.joinedAt } };
  });

  app.patch<WithId>('/api/workshops/:id', async (req, reply) => {
    const [w] = await managed(req, reply);
    const change = parse(changeBody, req.body);
    if (change.endsAt !== undefined && change.endsAt <= w.startsAt) {
      throw new ApiError('BAD_REQUEST', 'endsAt: must be after the start');
    }
    const updated = (await store.updateWorkshop(w.id, change))!;
    classroom.changed();
    return { workshop: await view(updated) };
  });

  app.post<WithId>('/api/workshops/:id/broadcast', async (req, reply) => {
    const [w, user] = await managed(req, reply);
    return { delivered: await classroom.broadcast(w, user, parse(broadcastBody, req.body).text) };
  });

  app.post<WithId>('/api/workshops/:id/extend', async (req, reply) => {
    const [w] = await managed(req, reply);
    return { extended: await classroom.extendAll(w) };
  });

  app.get<WithId>('/api/workshops/:id/results.csv', async (req, reply) => {
    const [w] = await managed(req, reply);
    const name = `${w.code}-results.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(await classroom.csv(w));
  });

  // The live dashboard. Browsers send cookies with a WebSocket upgrade, so the Origin must be ours
  // (no cross-site WebSocket hijacking), and the user must run the workshop.
  app.get<WithId>(
    '/api/workshops/:id/live',
    {
      websocket: true,
      preValidation: async (req, reply) => {
        const origin = req.headers.origin;
        if (!origin || !deps.allowedOrigins.includes(origin)) throw new ApiError('WS_ORIGIN_REFUSED');
        const [w, user] = await managed(req, reply);
        (req as FastifyRequest & { managed?: [Workshop, User] }).managed = [w, user];
      },
    },
    (socket, req) => {
      const [w, user] = (req as FastifyRequest & { managed: [Workshop, User] }).managed;
      void serveDashboard(socket, w, user, classroom).catch(() => socket.close(1011, 'dashboard failed'));
    },
  );
}

/** Most output (characters) queued for a slow dashboard before the watched terminal's output is skipped. */
const DASHBOARD_BACKLOG = 4 * 1024 * 1024;

async function serveDashboard(socket: WebSocket, w: Workshop, user: User, classroom: Classroom): Promise<void> {
  const send = (msg: DashboardServerMessage) => {
    if (socket.readyState !== socket.OPEN) return;
    if (msg.type === 'watch-output' && socket.bufferedAmount > DASHBOARD_BACKLOG) return;
    socket.send(JSON.stringify(msg));
  };
  const bad = () => {
    const { title, hint } = errorCatalogue.BAD_MESSAGE;
    send({ type: 'error', code: 'BAD_MESSAGE', title, hint });
  };
  // Messages that arrive while the first grid is computed wait for it.
  const opened = classroom.openDashboard(w, user, send);
  socket.on('message', (raw) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(raw));
    } catch {
      return bad();
    }
    const r = dashboardClientMessageSchema.safeParse(parsed);
    if (!r.success) return bad();
    if (r.data.type === 'ping') return send({ type: 'pong', at: r.data.at });
    const learner = r.data.learner;
    void opened.then((h) => h.watch(learner)).catch(() => undefined);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => void opened.then((h) => h.close()).catch(() => undefined));
  await opened;
}
