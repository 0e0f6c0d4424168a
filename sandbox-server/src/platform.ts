// Wires the real parts (engine, driver, sessions, terminals, signing) from the configuration.
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Platform } from './app.ts';
import type { Config } from './config.ts';
import { DockerDriver } from './drivers/docker/docker-driver.ts';
import type { SandboxDriver } from './drivers/driver.ts';
import { allResourceViewBinds } from './drivers/docker/resource-views.ts';
import { nodeEngines } from './drivers/swarm/node-engine.ts';
import { SwarmDriver } from './drivers/swarm/swarm-driver.ts';
import { dockerClient, dockerEngine, type Engine } from './engine/engine.ts';
import { hmacSigner, instanceIdOf, loadOrCreateKey } from './identity/signing.ts';
import { ticketIssuer } from './identity/tickets.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { importSessionsFile, tableSessionStore } from './sessions/session-store.ts';
import { TerminalRegistry } from './terminals/terminal-registry.ts';
import { previewGrants } from './previews/preview-grants.ts';
import { PreviewHosts } from './previews/preview-hosts.ts';
import { createPreviewServer } from './previews/preview-proxy.ts';
import { PublishedPortsRegistry } from './previews/published-ports.ts';
import { loadExercises } from '@dockyard/content';
import { Grading } from './grader/grading.ts';
import { EngineEvents } from './sessions/engine-events.ts';
import { openDatabase } from './store/database.ts';
import { Store } from './store/store.ts';
import { SandboxMapRegistry } from './map/sandbox-map.ts';
import { Accounts, createAuth } from './identity/accounts.ts';
import { Classroom } from './workshops/classroom.ts';
import { startWarmup } from './workshops/warmup.ts';

/** A driver with the checks the server makes at start-up. */
export type PlatformDriver = SandboxDriver & {
  /** Refuses sandbox hosts without user namespaces, unless allowed. */
  checkIsolation(allowNoUserns: boolean): Promise<void>;
  /** Refuses a backend that cannot run sandboxes as configured. */
  checkRuntime(): Promise<void>;
};

export interface RealPlatform extends Platform {
  driver: PlatformDriver;
  engine: Engine;
  instanceId: string;
  /** Starts the work that runs on its own: sizing the warm pool for workshops. */
  startBackground(): void;
  /** Ends terminals, engine event streams, dashboards and background work (before sessions.stop()). */
  stopLive(): void;
  /** Closes the database; after the server has stopped. */
  closeStore(): Promise<void>;
}

/** Wires the parts; opens (and migrates) the database first, so a bad DATABASE_URL stops start-up. */
export async function createPlatform(config: Config, logger: FastifyBaseLogger): Promise<RealPlatform> {
  const database = await openDatabase({
    dataDir: config.dataDir,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    log: logger,
  });
  const store = new Store(database.db);
  const docker = dockerClient(config.dockerSocket);
  const driver: PlatformDriver =
    config.driver === 'swarm'
      ? new SwarmDriver(docker, {
          nodeEngine: nodeEngines(config.swarm.nodeEngine, config.swarm.tlsDir),
          viewBinds: allResourceViewBinds(),
          // Another host, reached over the network, and busier than this one may be.
          readyTimeoutMs: 60_000,
        })
      : new DockerDriver(docker, {
          diskDir: join(config.dataDir, 'disks'),
          diskReserveBytes: config.diskReserveBytes,
          runtime: config.runtime,
        });
  const key = loadOrCreateKey(config.dataDir);
  const signer = hmacSigner(key);
  const instanceId = instanceIdOf(key);
  const imported = await importSessionsFile(config.dataDir, store.sessions);
  if (imported > 0) logger.info({ sessions: imported }, 'moved the sessions of sessions.json into the store');
  const sessions = new SessionManager({
    driver,
    store: tableSessionStore(store.sessions),
    settings: { ...config, instanceId },
    log: logger,
    notifier: database.notifier,
    // On PostgreSQL other servers may share the deployment: one of them reaps and runs the pool.
    ...(database.dialect === 'postgres' ? { leases: store.leases } : {}),
    shelf: store.warmShelf,
  });
  const events = new EngineEvents(driver, sessions);
  const terminals = new TerminalRegistry(driver, (id) => sessions.sandboxesOf(id));
  const exercises = loadExercises();
  const classroom = new Classroom({
    store,
    notifier: database.notifier,
    sessions,
    terminals,
    exercises,
    publicUrl: config.publicUrl,
    stuckMs: config.stuckMs,
  });
  const auth = createAuth(database.db as never, database.dialect, config, key);
  const accounts = new Accounts({
    store,
    signer,
    config,
    auth,
    onMerged: async (guestId, userId) => {
      await sessions.transfer(guestId, userId);
      classroom.changed();
    },
  });
  let stopWarmup: (() => void) | undefined;
  return {
    driver,
    events,
    grading: new Grading({
      driver,
      sessions,
      events,
      exercises,
      log: logger,
      record: async (sessionId, exercise, report, attempt) => {
        const owner = await store.ensureGuest(sessions.ownerOf(sessionId));
        await store.recordAttempt(owner.id, exercise.id, exercise.lesson, report, attempt);
        classroom.changed();
      },
    }),
    store,
    accounts,
    classroom,
    startBackground() {
      stopWarmup = startWarmup({
        store,
        sessions,
        base: config.warmPoolSize,
        leadMs: config.workshopWarmupMs,
        log: logger,
      });
    },
    stopLive() {
      stopWarmup?.();
      classroom.close();
      terminals.releaseAll();
      events.stopAll();
    },
    closeStore: () => database.close(),
    map: new SandboxMapRegistry(driver, sessions, events),
    engine: dockerEngine(docker),
    instanceId,
    sessions,
    terminals,
    signer,
    tickets: ticketIssuer(signer),
    previews: {
      hosts: new PreviewHosts(config.previewUrl),
      grants: previewGrants(signer),
      ports: new PublishedPortsRegistry(driver, sessions, events),
    },
  };
}

/** Starts the preview proxy on its own port; resolves with its close function. */
export async function listenPreviews(
  config: Config,
  platform: RealPlatform,
  logger: FastifyBaseLogger,
): Promise<() => Promise<void>> {
  const server = createPreviewServer({
    ...platform.previews,
    sessions: platform.sessions,
    driver: platform.driver,
    log: logger,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.previewPort, config.host, () => resolve());
  });
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
