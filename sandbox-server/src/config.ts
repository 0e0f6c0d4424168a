// The server's configuration: read once from the environment, validated, frozen.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const seconds = z.coerce.number().int().min(1);
const count = z.coerce.number().int().min(0);
const repo = resolve(import.meta.dirname, '../..');

export const configSchema = z.object({
  DOCKYARD_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the server listens on; 0.0.0.0 for every interface'),
  DOCKYARD_PORT: port.default(8080).describe('TCP port the server listens on'),
  DOCKYARD_PUBLIC_URL: z
    .url()
    .optional()
    .describe(
      'Address learners open (scheme, host, port); default http://localhost:PORT. Its origin may open terminals',
    ),
  DOCKYARD_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .describe(
      'More origins (comma-separated) allowed to open terminal WebSockets, besides the public URL and loopback',
    ),
  DOCKYARD_PREVIEW_PORT: port
    .default(8081)
    .describe("TCP port of the preview proxy, which shows learners' published ports on their own origins"),
  DOCKYARD_PREVIEW_URL: z
    .url()
    .optional()
    .describe(
      'Base address of previews; each one gets its own host under it, p<port>-<session>.<host>. Default http://localhost:PREVIEW_PORT (browsers send any *.localhost name to this machine)',
    ),
  DOCKYARD_SITE_DIR: z
    .string()
    .min(1)
    .default(resolve(repo, 'site/dist'))
    .describe('Folder of the built site the server serves'),
  DOCKYARD_DATA_DIR: z
    .string()
    .min(1)
    .default(resolve(repo, '.data'))
    .describe(
      'Folder for the server state: its signing key and the SQLite database (accounts, progress, workshops, sessions)',
    ),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'a postgres:// URL, e.g. postgres://user:password@host:5432/dockyard' })
    .optional()
    .describe(
      'PostgreSQL database for accounts, progress and workshops (postgres://user:password@host:port/db); without it, SQLite in DATA_DIR/dockyard.sqlite',
    ),
  DOCKYARD_TRUSTED_PROXIES: z
    .string()
    .regex(/^[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*$/, { error: 'addresses or CIDR ranges, separated by commas' })
    .optional()
    .describe(
      'Load balancers in front of the server (addresses or CIDR ranges, comma-separated): a request from one of them is counted under the client address its X-Forwarded-For names, for the per-address limits. Unset: the TCP peer is the client',
    ),
  DOCKYARD_REPLICA_ID: z
    .string()
    .regex(/^[\w.:-]{1,100}$/, { error: 'letters, digits and . _ : - only, at most 100' })
    .optional()
    .describe(
      "With several servers on one PostgreSQL: this one among them (the deployment's one reaper and warm pool run on whichever holds their lease); stable across its restarts. Default: host name and port",
    ),
  DOCKYARD_DOCKER_SOCKET: z
    .string()
    .min(1)
    .default('/var/run/docker.sock')
    .describe('Unix socket of the Docker Engine that runs the sandboxes'),
  DOCKYARD_DRIVER: z
    .enum(['docker', 'swarm'], {
      message: 'docker (sandboxes on this host) or swarm (on the sandbox hosts of a Swarm)',
    })
    .default('docker')
    .describe(
      "Where sandboxes run: docker, on the engine of DOCKYARD_DOCKER_SOCKET; swarm, on the sandbox hosts of the Swarm whose manager's engine that socket is (docs/swarm.md)",
    ),
  DOCKYARD_SWARM_NODE_ENGINE: z
    .string()
    .regex(/^(unix|tcp):\/\/\S+$/, 'unix:///path or tcp://host:port, with {addr} or {hostname} standing for the host')
    .default('tcp://{addr}:2376')
    .describe(
      "With DOCKYARD_DRIVER=swarm: each sandbox host's engine API, {addr} standing for its Swarm address and {hostname} for its name; a tcp:// one needs DOCKYARD_SWARM_TLS_DIR",
    ),
  DOCKYARD_SWARM_TLS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      "With DOCKYARD_DRIVER=swarm and a tcp:// DOCKYARD_SWARM_NODE_ENGINE: the folder of ca.pem, cert.pem and key.pem, the client certificate the sandbox hosts' engines trust",
    ),
  DOCKYARD_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Least severe log level written (JSON lines on stdout)'),
  DOCKYARD_SESSION_TTL_S: seconds
    .default(7200)
    .describe('Lifetime of a sandbox session, in seconds (extend adds this again)'),
  DOCKYARD_IDLE_TIMEOUT_S: seconds
    .default(1800)
    .describe('A session with no terminal input, file save or API call for this long ends, in seconds'),
  DOCKYARD_EXPIRY_WARNING_S: seconds.default(300).describe('How long before the end the learner is warned, in seconds'),
  DOCKYARD_MAX_SANDBOXES: count
    .default(40)
    .describe('Capacity: sandboxes this host runs at most (sessions plus warm pool); beyond it creation fails fast'),
  DOCKYARD_SANDBOX_CREATE_LIMIT: count
    .default(20)
    .describe('New sandboxes one client address may start per hour (0 turns the limit off); past it, 429 RATE_LIMITED'),
  DOCKYARD_SIGN_IN_LIMIT: count
    .default(10)
    .describe('Sign-in attempts one client address may make per 15 minutes (0 turns the limit off); past it, 429'),
  DOCKYARD_SIGN_UP_LIMIT: count
    .default(10)
    .describe('Accounts one client address may create per hour (0 turns the limit off); past it, 429'),
  DOCKYARD_ADMINS: z
    .string()
    .default('')
    .describe('Usernames (comma-separated) that are made admins when they sign up or sign in'),
  DOCKYARD_GITHUB_CLIENT_ID: z
    .string()
    .optional()
    .describe('GitHub OAuth app client id; with the secret, learners may sign in with GitHub'),
  DOCKYARD_GITHUB_CLIENT_SECRET: z.string().optional().describe('GitHub OAuth app client secret'),
  DOCKYARD_STUCK_MINUTES: count
    .min(1)
    .default(10)
    .describe("A workshop learner with no progress for this many minutes shows as stuck on the instructor's dashboard"),
  DOCKYARD_WORKSHOP_WARMUP_MINUTES: count
    .default(15)
    .describe('How long before a workshop starts the warm pool grows to its free seats, in minutes'),
  DOCKYARD_PLAYGROUND_MAX_NODES: count
    .min(1)
    .max(9)
    .default(5)
    .describe(
      'Nodes (sandboxes) one session may have in the playground, the first included; each counts against capacity',
    ),
  DOCKYARD_WARM_POOL_SIZE: count
    .default(2)
    .describe('Sandboxes kept started and ready to hand out (0 turns the pool off)'),
  DOCKYARD_SANDBOX_MEMORY_MB: count.min(256).default(2048).describe('Memory per sandbox, swap included, in MiB'),
  DOCKYARD_SANDBOX_CPUS: z.coerce.number().min(0.1).default(1).describe('CPUs per sandbox (0.5 is half a CPU)'),
  DOCKYARD_SANDBOX_PIDS: count.min(64).default(1024).describe('Most processes per sandbox, inner containers included'),
  DOCKYARD_SANDBOX_STORAGE_MB: count
    .min(128)
    .default(4096)
    .describe(
      "Size of each sandbox's own disk (inner engine storage, home, /tmp), in MiB: a sparse file under DATA_DIR/disks",
    ),
  DOCKYARD_DISK_RESERVE_MB: count
    .default(2048)
    .describe(
      "Free space kept on the data folder's volume for the store, the engine and the mirror, in MiB: a new sandbox is refused unless every sandbox disk there can fill up and leave this much",
    ),
  DOCKYARD_SANDBOX_RUNTIME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a runtime name as the engine lists it (runc, runsc, crun)')
    .default('runc')
    .describe(
      "OCI runtime the engine starts sandboxes with; it must be in the engine's runtimes and able to run Docker inside",
    ),
  DOCKYARD_ALLOW_NO_USERNS: z
    .enum(['0', '1'], { message: 'use 1 to allow, 0 (or unset) to refuse' })
    .default('0')
    .describe(
      "1: run sandboxes on an engine without user namespaces (sandbox root is then the host's root, weaker than docs/security.md promises); 0 refuses at start-up",
    ),
  DOCKYARD_REAPER_INTERVAL_S: seconds
    .default(15)
    .describe('How often expired and orphaned sandboxes are looked for, in seconds'),
  DOCKYARD_FILE_MAX_BYTES: count.default(1024 * 1024).describe('Largest file the editor may read or write, in bytes'),
});

export type Config = Readonly<{
  host: string;
  port: number;
  publicUrl: string;
  allowedOrigins: readonly string[];
  previewPort: number;
  previewUrl: string;
  siteDir: string;
  dataDir: string;
  /** PostgreSQL when set; otherwise the store is SQLite under dataDir. */
  databaseUrl?: string;
  /** Load balancers whose X-Forwarded-For names the client (none: the TCP peer is the client). */
  trustedProxies: readonly string[];
  /** This server among the deployment's (the reaper's lease holder is named by it). */
  replicaId: string;
  dockerSocket: string;
  /** Where sandboxes run: this host's engine, or a Swarm's sandbox hosts (dockerSocket is then a manager's). */
  driver: 'docker' | 'swarm';
  /** With the swarm driver: how each sandbox host's engine is reached. */
  swarm: Readonly<{ nodeEngine: string; tlsDir?: string }>;
  logLevel: z.infer<typeof configSchema>['DOCKYARD_LOG_LEVEL'];
  sessionTtlMs: number;
  idleTimeoutMs: number;
  expiryWarningMs: number;
  maxSandboxes: number;
  createLimitPerHour: number;
  warmPoolSize: number;
  maxNodes: number;
  signInLimitPer15Min: number;
  signUpLimitPerHour: number;
  /** Usernames made admins on sign-in. */
  admins: readonly string[];
  /** GitHub sign-in, when both halves are set. */
  github?: Readonly<{ clientId: string; clientSecret: string }>;
  stuckMs: number;
  workshopWarmupMs: number;
  limits: Readonly<{ memoryBytes: number; cpus: number; pids: number; storageBytes: number }>;
  diskReserveBytes: number;
  runtime: string;
  /** Run sandboxes even where the engine has no user namespaces (an opt-in, documented). */
  allowNoUserns: boolean;
  reaperIntervalMs: number;
  fileMaxBytes: number;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const MiB = 1024 * 1024;

/** Validates the environment and returns the frozen configuration, or throws a ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join('.')}: ${i.message} (${describe(String(i.path[0]))})`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee the configuration table in README.md.`);
  }
  const c = parsed.data;
  if (c.DOCKYARD_PREVIEW_PORT === c.DOCKYARD_PORT) {
    throw new ConfigError(
      'Invalid configuration:\n  DOCKYARD_PREVIEW_PORT: must differ from DOCKYARD_PORT (previews get their own listener)',
    );
  }
  if (c.DOCKYARD_DRIVER === 'swarm' && c.DOCKYARD_SWARM_NODE_ENGINE.startsWith('tcp://') && !c.DOCKYARD_SWARM_TLS_DIR) {
    throw new ConfigError(
      'Invalid configuration:\n  DOCKYARD_SWARM_TLS_DIR: required with DOCKYARD_DRIVER=swarm and a tcp:// DOCKYARD_SWARM_NODE_ENGINE (the sandbox hosts answer over TLS; docs/swarm.md makes the certificates)',
    );
  }
  const publicUrl = (c.DOCKYARD_PUBLIC_URL ?? `http://localhost:${c.DOCKYARD_PORT}`).replace(/\/+$/, '');
  const loopback = [`http://localhost:${c.DOCKYARD_PORT}`, `http://127.0.0.1:${c.DOCKYARD_PORT}`];
  const extra = c.DOCKYARD_ALLOWED_ORIGINS.split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  return Object.freeze({
    host: c.DOCKYARD_HOST,
    port: c.DOCKYARD_PORT,
    publicUrl,
    allowedOrigins: Object.freeze([...new Set([new URL(publicUrl).origin, ...loopback, ...extra])]),
    previewPort: c.DOCKYARD_PREVIEW_PORT,
    previewUrl: (c.DOCKYARD_PREVIEW_URL ?? `http://localhost:${c.DOCKYARD_PREVIEW_PORT}`).replace(/\/+$/, ''),
    siteDir: c.DOCKYARD_SITE_DIR,
    dataDir: c.DOCKYARD_DATA_DIR,
    ...(c.DATABASE_URL ? { databaseUrl: c.DATABASE_URL } : {}),
    trustedProxies: c.DOCKYARD_TRUSTED_PROXIES?.split(',') ?? [],
    replicaId: c.DOCKYARD_REPLICA_ID ?? `${hostname()}:${c.DOCKYARD_PORT}`,
    dockerSocket: c.DOCKYARD_DOCKER_SOCKET,
    driver: c.DOCKYARD_DRIVER,
    swarm: Object.freeze({
      nodeEngine: c.DOCKYARD_SWARM_NODE_ENGINE,
      ...(c.DOCKYARD_SWARM_TLS_DIR ? { tlsDir: c.DOCKYARD_SWARM_TLS_DIR } : {}),
    }),
    logLevel: c.DOCKYARD_LOG_LEVEL,
    sessionTtlMs: c.DOCKYARD_SESSION_TTL_S * 1000,
    idleTimeoutMs: c.DOCKYARD_IDLE_TIMEOUT_S * 1000,
    expiryWarningMs: c.DOCKYARD_EXPIRY_WARNING_S * 1000,
    maxSandboxes: c.DOCKYARD_MAX_SANDBOXES,
    createLimitPerHour: c.DOCKYARD_SANDBOX_CREATE_LIMIT,
    warmPoolSize: c.DOCKYARD_WARM_POOL_SIZE,
    maxNodes: c.DOCKYARD_PLAYGROUND_MAX_NODES,
    signInLimitPer15Min: c.DOCKYARD_SIGN_IN_LIMIT,
    signUpLimitPerHour: c.DOCKYARD_SIGN_UP_LIMIT,
    admins: Object.freeze(
      c.DOCKYARD_ADMINS.split(',')
        .map((u) => u.trim().toLowerCase())
        .filter(Boolean),
    ),
    ...(c.DOCKYARD_GITHUB_CLIENT_ID && c.DOCKYARD_GITHUB_CLIENT_SECRET
      ? {
          github: Object.freeze({
            clientId: c.DOCKYARD_GITHUB_CLIENT_ID,
            clientSecret: c.DOCKYARD_GITHUB_CLIENT_SECRET,
          }),
        }
      : {}),
    stuckMs: c.DOCKYARD_STUCK_MINUTES * 60_000,
    workshopWarmupMs: c.DOCKYARD_WORKSHOP_WARMUP_MINUTES * 60_000,
    limits: Object.freeze({
      memoryBytes: c.DOCKYARD_SANDBOX_MEMORY_MB * MiB,
      cpus: c.DOCKYARD_SANDBOX_CPUS,
      pids: c.DOCKYARD_SANDBOX_PIDS,
      storageBytes: c.DOCKYARD_SANDBOX_STORAGE_MB * MiB,
    }),
    diskReserveBytes: c.DOCKYARD_DISK_RESERVE_MB * MiB,
    runtime: c.DOCKYARD_SANDBOX_RUNTIME,
    allowNoUserns: c.DOCKYARD_ALLOW_NO_USERNS === '1',
    reaperIntervalMs: c.DOCKYARD_REAPER_INTERVAL_S * 1000,
    fileMaxBytes: c.DOCKYARD_FILE_MAX_BYTES,
  });
}

function describe(key: string): string {
  const field = configSchema.shape[key as keyof typeof configSchema.shape];
  return field?.description ?? 'unknown setting';
}
