// The compose deployment's own settings (docs/scale.md lists each), read once from the environment.
// The replicas' settings are the server's (README's table); `npm run compose` passes those on.
import { isAbsolute, resolve } from 'node:path';
import { SettingsError } from '../setup/settings.ts';

export interface ComposeSettings {
  /** Address nginx listens on, for the platform and for previews. */
  host: string;
  /** nginx's port for the platform, and for previews. */
  port: number;
  previewPort: number;
  /** Host folder the replicas share: signing key, sandbox disks, and the generated files under compose/. */
  dataDir: string;
  /** Port on 127.0.0.1 where PostgreSQL answers the replicas. */
  dbPort: number;
}

/** Every variable this module reads, with its default and meaning; docs/scale.md lists each (a test checks). */
export const COMPOSE_SETTINGS = {
  DOCKYARD_COMPOSE_HOST: ['127.0.0.1', 'Address nginx listens on; 0.0.0.0 for every interface'],
  DOCKYARD_COMPOSE_PORT: ['8080', 'Port where nginx takes learners to the replicas'],
  DOCKYARD_COMPOSE_PREVIEW_PORT: ['8081', 'Port where nginx takes previews of published ports to the replicas'],
  DOCKYARD_COMPOSE_DATA_DIR: ['/var/lib/dockyard', 'Host folder every replica shares (signing key, sandbox disks)'],
  DOCKYARD_COMPOSE_DB_PORT: ['5433', 'Port on 127.0.0.1 where PostgreSQL answers the replicas'],
} as const;

type Name = keyof typeof COMPOSE_SETTINGS;

function portOf(env: NodeJS.ProcessEnv, name: Name): number {
  const raw = env[name] || COMPOSE_SETTINGS[name][0];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new SettingsError(`${name} must be a TCP port (1-65535), not "${raw}". See docs/scale.md.`);
  }
  return n;
}

/** Validates the environment and returns frozen settings, or throws a SettingsError naming the setting. */
export function readComposeSettings(env: NodeJS.ProcessEnv): ComposeSettings {
  const dataDir = env.DOCKYARD_COMPOSE_DATA_DIR || COMPOSE_SETTINGS.DOCKYARD_COMPOSE_DATA_DIR[0];
  if (!isAbsolute(dataDir)) {
    throw new SettingsError(`DOCKYARD_COMPOSE_DATA_DIR must be an absolute path on this host, not "${dataDir}".`);
  }
  const s = {
    host: env.DOCKYARD_COMPOSE_HOST || COMPOSE_SETTINGS.DOCKYARD_COMPOSE_HOST[0],
    port: portOf(env, 'DOCKYARD_COMPOSE_PORT'),
    previewPort: portOf(env, 'DOCKYARD_COMPOSE_PREVIEW_PORT'),
    dataDir: resolve(dataDir),
    dbPort: portOf(env, 'DOCKYARD_COMPOSE_DB_PORT'),
  };
  if (s.port === s.previewPort) {
    throw new SettingsError('DOCKYARD_COMPOSE_PREVIEW_PORT must differ from DOCKYARD_COMPOSE_PORT.');
  }
  return Object.freeze(s);
}
