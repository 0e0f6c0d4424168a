// The files `npm run compose` writes for compose.yaml to read, from compose.yaml itself and the
// settings: nginx.conf (its upstreams are the replicas compose.yaml runs), and the replicas' and
// PostgreSQL's environment. Pure, so the tests can read each.
import { parse } from 'yaml';
import { configSchema } from '../../sandbox-server/src/config.ts';
import { nginxConfig } from './nginx.ts';
import type { ComposeSettings } from './settings.ts';

/** The image every replica runs; a service of compose.yaml with it is a replica. */
export const SERVER_IMAGE = 'dockyard/server:latest';

/** Sign-in, sign-up and password POSTs nginx lets one client address make per minute (and as many at once). */
export const ACCOUNT_POSTS_PER_MINUTE = 10;

/**
 * Seconds nginx leaves a replica out after a refused connection. A refused connection costs
 * nothing (nginx tries the next replica at once), so this is short: a restarted replica gets
 * learners again soon, and a rolling restart waits this long between replicas.
 */
export const REPLICA_FAIL_TIMEOUT_S = 5;

export interface Replica {
  service: string;
  port: number;
  previewPort: number;
}

/** The replicas compose.yaml runs, with the ports each listens on (on 127.0.0.1). */
export function replicasOf(composeYaml: string): Replica[] {
  const doc = parse(composeYaml, { merge: true }) as {
    services: Record<string, { image?: string; environment?: Record<string, unknown> }>;
  };
  const replicas = Object.entries(doc.services)
    .filter(([, s]) => s.image === SERVER_IMAGE)
    .map(([service, s]) => {
      const port = Number(s.environment?.DOCKYARD_PORT);
      const previewPort = Number(s.environment?.DOCKYARD_PREVIEW_PORT);
      if (!port || !previewPort) {
        throw new Error(`compose.yaml: ${service} needs DOCKYARD_PORT and DOCKYARD_PREVIEW_PORT in its environment`);
      }
      return { service, port, previewPort };
    });
  if (replicas.length === 0) throw new Error(`compose.yaml runs no service with the image ${SERVER_IMAGE}`);
  const ports = replicas.flatMap((r) => [r.port, r.previewPort]);
  if (new Set(ports).size !== ports.length) throw new Error('compose.yaml: two replicas listen on the same port');
  return replicas;
}

/** nginx.conf for the nginx service: the container's /tmp is its only writable place. */
export function composeNginxConfig(replicas: readonly Replica[], s: ComposeSettings): string {
  return nginxConfig({
    upstreams: replicas.map((r) => `127.0.0.1:${r.port}`),
    previewUpstreams: replicas.map((r) => `127.0.0.1:${r.previewPort}`),
    listen: `${s.host}:${s.port}`,
    previewListen: `${s.host}:${s.previewPort}`,
    runDir: '/tmp',
    accessLog: '/dev/stdout',
    accountPostsPerMinute: ACCOUNT_POSTS_PER_MINUTE,
    failTimeoutS: REPLICA_FAIL_TIMEOUT_S,
  });
}

/** Server settings the deployment decides (each replica's ports come from compose.yaml). */
const DEPLOYMENT_OWNED = [
  'DOCKYARD_HOST',
  'DOCKYARD_PORT',
  'DOCKYARD_PREVIEW_PORT',
  'DOCKYARD_DATA_DIR',
  'DOCKYARD_SITE_DIR',
  'DOCKYARD_DOCKER_SOCKET',
  'DATABASE_URL',
];

/** The replicas' environment file: the deployment's settings, then every server setting `env` sets. */
export function serverEnv(env: NodeJS.ProcessEnv, s: ComposeSettings, dbPassword: string): string {
  const vars: Record<string, string> = {
    DOCKYARD_HOST: '127.0.0.1',
    DOCKYARD_DATA_DIR: s.dataDir,
    DATABASE_URL: `postgres://dockyard:${dbPassword}@127.0.0.1:${s.dbPort}/dockyard`,
    DOCKYARD_PUBLIC_URL: `http://localhost:${s.port}`,
    DOCKYARD_PREVIEW_URL: `http://localhost:${s.previewPort}`,
    // nginx (on this host) names the client: the per-address limits count clients, not nginx.
    DOCKYARD_TRUSTED_PROXIES: '127.0.0.1',
  };
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '' && !DEPLOYMENT_OWNED.includes(key)) vars[key] = value;
  }
  const unsafe = Object.entries(vars).find(([, v]) => /[\n\r]/.test(v));
  if (unsafe) throw new Error(`${unsafe[0]} holds a line break, which an environment file cannot carry`);
  return `# Written by npm run compose (infra/compose/generated.ts) at each up.\n${Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/** PostgreSQL's first start creates the role and database from these (images/library/postgres). */
export const postgresEnv = (dbPassword: string): string =>
  `POSTGRES_USER=dockyard\nPOSTGRES_DB=dockyard\nPOSTGRES_PASSWORD=${dbPassword}\n`;
