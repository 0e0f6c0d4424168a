// A deployment of several servers for tests and the benchmark, all real: PostgreSQL from Debian's
// package, server processes sharing one data folder, and Debian's nginx in front, configured as
// `infra/compose` configures it. Each server can be killed on its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDriver } from '../drivers/docker/docker-driver.ts';
import type { SandboxDriver } from '../drivers/driver.ts';
import { dockerClient } from '../engine/engine.ts';
import { instanceIdOf, loadOrCreateKey } from '../identity/signing.ts';
import { SERVER_LABEL } from '../sessions/session-manager.ts';
import { freePort, TEST_ORIGIN } from './harness.ts';
import { startNginx, type NginxServer } from './nginx-server.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';

export interface Replica {
  /** Its DOCKYARD_REPLICA_ID: r1, r2... */
  name: string;
  /** The server itself, not through nginx. */
  url: string;
  child: ChildProcess;
  /** SIGKILL, as a crash would; resolves once it is gone. */
  kill(): Promise<void>;
  /** Cuts this server off from PostgreSQL (its connections, and new ones), as a network fault would. */
  cutDatabase(): void;
  restoreDatabase(): void;
}

export interface Deployment {
  /** The platform through nginx. */
  url: string;
  replicas: Replica[];
  pg: PostgresServer;
  nginx: NginxServer;
  /** The deployment's id: the label on its sandboxes. */
  id: string;
  dataDir: string;
  /** The deployment's sandboxes on the engine (or the Swarm). */
  sandboxes(): ReturnType<SandboxDriver['list']>;
  /** Kills every server, stops nginx and PostgreSQL, removes the sandboxes, networks and data folder. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts `replicas` servers (one after the other) on a new PostgreSQL, behind a new nginx. */
export async function startDeployment(
  opts: {
    replicas?: number;
    env?: Record<string, string>;
    /** Where the servers' sandboxes are, for the clean-up (the servers' own settings are in `env`). */
    driver?: SandboxDriver;
  } = {},
): Promise<Deployment> {
  const driver = opts.driver ?? new DockerDriver(dockerClient('/var/run/docker.sock'));
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-deployment-'));
  // Others may pass through (not list): runsc opens the sandboxes' disks under it as the remapped root.
  chmodSync(dataDir, 0o711);
  const pg = await startPostgres();
  const replicas: Replica[] = [];
  let nginx: NginxServer | undefined;
  let id = '';
  const sandboxes = async () => (await driver.list()).filter((s) => s.labels[SERVER_LABEL] === id);
  const stop = async () => {
    await Promise.all(replicas.map((r) => r.kill()));
    await nginx?.stop();
    if (id) {
      for (const s of await sandboxes()) await driver.remove(s.id);
      for (const n of (await driver.listPeerNetworks()).filter((n) => n.labels[SERVER_LABEL] === id))
        await driver.removePeerNetwork(n.id);
    }
    await pg.stop();
    // The sandboxes' disks went with them: the folder holds the servers' logs (kept for a
    // post-mortem with DOCKYARD_TEST_KEEP_LOGS=1) and key.
    if (!process.env.DOCKYARD_TEST_KEEP_LOGS) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // One after the other: the first makes the signing key (the deployment's id) the others read.
    for (let i = 1; i <= (opts.replicas ?? 2); i++) replicas.push(await startReplica(`r${i}`, pg, dataDir, opts.env));
    id = instanceIdOf(loadOrCreateKey(dataDir));
    nginx = await startNginx({ upstreams: replicas.map((r) => r.url.replace('http://', '')) });
    return { url: nginx.url, replicas, pg, nginx, id, dataDir, sandboxes, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

async function startReplica(
  name: string,
  pg: PostgresServer,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Replica> {
  const port = await freePort();
  const logFile = join(dataDir, `${name}.log`);
  const db = await databaseLink(pg.url);
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      DOCKYARD_REPLICA_ID: name,
      DOCKYARD_PORT: String(port),
      DOCKYARD_PREVIEW_PORT: String(await freePort()),
      DOCKYARD_DATA_DIR: dataDir,
      DOCKYARD_PUBLIC_URL: TEST_ORIGIN,
      DOCKYARD_SANDBOX_MEMORY_MB: '1024',
      DOCKYARD_SANDBOX_STORAGE_MB: '2048',
      DOCKYARD_LOG_LEVEL: 'warn',
      ...env,
    },
    // Its log, for a failure's post-mortem.
    stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
  });
  const url = `http://127.0.0.1:${port}`;
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    db.close();
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { name, url, child, kill, cutDatabase: () => db.cut(), restoreDatabase: () => db.restore() };
    await sleep(100);
  }
  await kill();
  throw new Error(`server ${name} did not become ready; its log: ${logFile}`);
}

/** A TCP relay between one server and PostgreSQL, which a test can cut and restore. */
async function databaseLink(pgUrl: string) {
  const target = new URL(pgUrl);
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const url = new URL(pgUrl);
  url.port = String(port);
  return {
    url: url.toString(),
    /** Drops the connections, and refuses new ones until `restore`. */
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close() {
      this.cut();
      server.close();
    },
  };
}
