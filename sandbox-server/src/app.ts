// Builds the Fastify app from its parts; main.ts gives it real ones, tests give it fakes.
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import type { SandboxDriver } from './drivers/driver.ts';
import type { Engine } from './engine/engine.ts';
import { ApiError } from './errors.ts';
import type { Accounts } from './identity/accounts.ts';
import type { Classroom } from './workshops/classroom.ts';
import { accountRoutes } from './routes/account.ts';
import { adminRoutes } from './routes/admin.ts';
import { workshopRoutes } from './routes/workshops.ts';
import type { Signer } from './identity/signing.ts';
import type { TicketIssuer } from './identity/tickets.ts';
import type { SandboxMapRegistry } from './map/sandbox-map.ts';
import { createMetrics } from './metrics.ts';
import type { Grading } from './grader/grading.ts';
import type { PreviewGrants } from './previews/preview-grants.ts';
import type { EngineEvents } from './sessions/engine-events.ts';
import type { Store } from './store/store.ts';
import type { PreviewHosts } from './previews/preview-hosts.ts';
import type { PublishedPortsRegistry } from './previews/published-ports.ts';
import { healthRoutes } from './routes/health.ts';
import { storeGate, type StoreGate } from './routes/store-gate.ts';
import { completionRoutes } from './routes/completion.ts';
import { exerciseRoutes } from './routes/exercises.ts';
import { progressRoutes } from './routes/progress.ts';
import { sessionRoutes } from './routes/sessions.ts';
import type { SessionManager } from './sessions/session-manager.ts';
import { sessionSocketRoute } from './terminals/session-socket.ts';
import type { TerminalRegistry } from './terminals/terminal-registry.ts';

/** What sandboxes need; absent in tests of the HTTP shell alone. */
export interface Platform {
  driver: SandboxDriver;
  sessions: SessionManager;
  terminals: TerminalRegistry;
  signer: Signer;
  tickets: TicketIssuer;
  previews: Previews;
  /** Each session's engine events, shared by the port list, the map and live grading. */
  events: EngineEvents;
  grading: Grading;
  /** The live sandbox map of each session. */
  map: SandboxMapRegistry;
  /** Users and their progress (SQLite, or PostgreSQL with DATABASE_URL). */
  store: Store;
  /** Who is asking: an account, or the browser's guest. */
  accounts: Accounts;
  /** Workshops' live dashboards, terminal watching and broadcasts. */
  classroom: Classroom;
}

/** Port previews: their addresses, the grants that open them, and the live list of published ports. */
export interface Previews {
  hosts: PreviewHosts;
  grants: PreviewGrants;
  ports: PublishedPortsRegistry;
}

export interface AppDeps {
  config: Config;
  engine: Engine;
  platform?: Platform;
  /** Shared with the parts built before the app; by default one at config.logLevel. */
  logger?: FastifyBaseLogger;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function buildApp({ config, engine, platform, logger }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: { level: config.logLevel } }),
    // Behind a load balancer, req.ip is the client it names, not the balancer (per-address limits).
    ...(config.trustedProxies.length > 0 ? { trustProxy: [...config.trustedProxies] } : {}),
  });
  const metrics = createMetrics(platform?.sessions, platform?.terminals);

  // Which server of the deployment answered (requests and sockets alike): for an operator reading
  // the load balancer's logs, and for the tests that kill one.
  app.addHook('onRequest', async (_req, reply) => void reply.header('x-dockyard-replica', config.replicaId));
  // Set below, with the platform: whether the database answers.
  let gate: StoreGate | undefined;
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      apiError = new ApiError(err.statusCode === 413 ? 'FILE_TOO_LARGE' : 'BAD_REQUEST', err.message);
    } else if (gate && (await gate.check())) {
      // A failure while the database does not answer is that, and is said so (a load balancer
      // then tries another server); the gate is closed from now until it answers again.
      apiError = new ApiError('STORE_UNREACHABLE', gate.closed);
    } else {
      req.log.error({ err }, 'unhandled error');
      apiError = new ApiError('INTERNAL');
    }
    metrics.apiError(apiError.code);
    if (apiError.extra.retryAfterSeconds) reply.header('retry-after', String(apiError.extra.retryAfterSeconds));
    return reply.status(apiError.status).send(apiError.toBody());
  });

  // CSRF: a browser names the page behind every POST, PUT and DELETE in Origin. A page of another
  // origin (another site, or a learner's preview on a sibling host) may not change anything here.
  // Tools that send no Origin (curl, tests) are not browsers and are let through.
  app.addHook('onRequest', async (req) => {
    if (SAFE_METHODS.has(req.method) || !req.url.startsWith('/api/')) return;
    const origin = req.headers.origin;
    if (origin !== undefined && !config.allowedOrigins.includes(origin)) {
      throw new ApiError('ORIGIN_REFUSED', `Origin ${origin} may not call ${req.method} ${req.url.split('?')[0]}.`);
    }
  });

  if (platform) gate = storeGate(app, platform.store);
  // Ready when the gate is open: a server that answers /readyz serves its API too.
  healthRoutes(app, engine, platform?.sessions, gate);
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  if (platform) {
    await app.register(fastifyCookie);
    await app.register(fastifyWebsocket, { options: { maxPayload: 128 * 1024 } });
    app.websocketServer.on('headers', (headers: string[]) => headers.push(`X-Dockyard-Replica: ${config.replicaId}`));
    const { accounts } = platform;
    const ownerOf = async (req: FastifyRequest, reply: FastifyReply) => (await accounts.identify(req, reply)).id;
    // CSRF, second layer: a change that carries the browser's cookies must echo the CSRF token.
    app.addHook('preHandler', async (req) => {
      if (!SAFE_METHODS.has(req.method) && req.url.startsWith('/api/')) accounts.checkCsrf(req);
    });
    exerciseRoutes(app, platform.grading);
    progressRoutes(app, platform.store, ownerOf);
    completionRoutes(app, {
      accounts,
      store: platform.store,
      exercises: () => platform.grading.list(),
      publicUrl: config.publicUrl,
    });
    accountRoutes(app, accounts, platform.store);
    workshopRoutes(app, {
      accounts,
      store: platform.store,
      classroom: platform.classroom,
      allowedOrigins: config.allowedOrigins,
    });
    adminRoutes(app, accounts, platform.store, platform.sessions);
    platform.grading.onGraded = (report) => metrics.graded(report);
    sessionRoutes(app, {
      sessions: platform.sessions,
      driver: platform.driver,
      tickets: platform.tickets,
      previews: platform.previews,
      grading: platform.grading,
      map: platform.map,
      ownerOf,
      fileMaxBytes: config.fileMaxBytes,
      createLimitPerHour: config.createLimitPerHour,
      rateEvents: platform.store.rateEvents,
      onCreated: (ms, fromPool) => metrics.sessionCreated(ms, fromPool),
    });
    sessionSocketRoute(app, {
      sessions: platform.sessions,
      terminals: platform.terminals,
      tickets: platform.tickets,
      ports: platform.previews.ports,
      map: platform.map,
      grading: platform.grading,
      classroom: platform.classroom,
      allowedOrigins: config.allowedOrigins,
    });
  }

  if (existsSync(config.siteDir)) {
    await app.register(fastifyStatic, { root: config.siteDir, wildcard: false, index: ['index.html'] });
  } else {
    app.log.warn({ siteDir: config.siteDir }, 'no built site here: build it with `npm run build -w site`');
  }

  app.setNotFoundHandler((req, reply) => {
    const notFound = new ApiError('NOT_FOUND', `No route for ${req.method} ${req.url}`);
    const page = `${config.siteDir}/404.html`;
    if (!req.url.startsWith('/api/') && req.method === 'GET') {
      // A page of the site asked without its trailing slash (/course for /course/index.html).
      const path = posix.normalize(decodeURIComponent(req.url.split('?')[0]!)).replace(/\/+$/, '');
      const index = `${path.slice(1)}/index.html`;
      if (!path.includes('..') && path !== '' && existsSync(join(config.siteDir, index))) {
        return reply.type('text/html').sendFile(index);
      }
      if (existsSync(page)) return reply.status(404).type('text/html').sendFile('404.html');
    }
    return reply.status(404).send(notFound.toBody());
  });

  return app;
}
