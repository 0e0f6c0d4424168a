// The server's configuration: read once from the environment, validated, frozen.
import { resolve } from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);

export const configSchema = z.object({
  DOCKYARD_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the server listens on; 0.0.0.0 for every interface'),
  DOCKYARD_PORT: port.default(8080).describe('TCP port the server listens on'),
  DOCKYARD_SITE_DIR: z
    .string()
    .min(1)
    .default(resolve(import.meta.dirname, '../../site/dist'))
    .describe('Folder of the built site the server serves'),
  DOCKYARD_DOCKER_SOCKET: z
    .string()
    .min(1)
    .default('/var/run/docker.sock')
    .describe('Unix socket of the Docker Engine that runs the sandboxes'),
  DOCKYARD_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Least severe log level written (JSON lines on stdout)'),
});

export type Config = Readonly<{
  host: string;
  port: number;
  siteDir: string;
  dockerSocket: string;
  logLevel: z.infer<typeof configSchema>['DOCKYARD_LOG_LEVEL'];
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

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
  return Object.freeze({
    host: c.DOCKYARD_HOST,
    port: c.DOCKYARD_PORT,
    siteDir: c.DOCKYARD_SITE_DIR,
    dockerSocket: c.DOCKYARD_DOCKER_SOCKET,
    logLevel: c.DOCKYARD_LOG_LEVEL,
  });
}

function describe(key: string): string {
  const field = configSchema.shape[key as keyof typeof configSchema.shape];
  return field?.description ?? 'unknown setting';
}
