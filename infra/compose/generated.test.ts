// What `npm run compose` writes: replicas from compose.yaml, nginx.conf for them, the replicas' settings.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeNginxConfig, postgresEnv, replicasOf, serverEnv } from './generated.ts';
import { readComposeSettings } from './settings.ts';

const composeYaml = readFileSync(join(import.meta.dirname, 'compose.yaml'), 'utf8');
const settings = readComposeSettings({ DOCKYARD_COMPOSE_PORT: '18090', DOCKYARD_COMPOSE_PREVIEW_PORT: '18091' });
const envOf = (file: string) =>
  Object.fromEntries(
    file
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
      .map((l) => l.split(/=(.*)/s).slice(0, 2)),
  );

describe('replicasOf', () => {
  it('finds the two replicas of compose.yaml and their ports', () => {
    expect(replicasOf(composeYaml)).toEqual([
      { service: 'server-1', port: 8101, previewPort: 8201 },
      { service: 'server-2', port: 8102, previewPort: 8202 },
    ]);
  });

  it('counts a replica added by copying one', () => {
    const three = composeYaml.replace(
      "  # Debian's nginx",
      "  server-3:\n    <<: *server\n    environment:\n      DOCKYARD_REPLICA_ID: server-3\n      DOCKYARD_PORT: 8103\n      DOCKYARD_PREVIEW_PORT: 8203\n\n  # Debian's nginx",
    );
    expect(replicasOf(three).map((r) => r.service)).toEqual(['server-1', 'server-2', 'server-3']);
  });

  it('refuses two replicas on one port', () => {
    expect(() => replicasOf(composeYaml.replace('DOCKYARD_PORT: 8102', 'DOCKYARD_PORT: 8101'))).toThrow(/same port/);
  });
});

describe('composeNginxConfig', () => {
  it('sends the platform and previews to every replica, from the ports the settings name', () => {
    const conf = composeNginxConfig(replicasOf(composeYaml), settings);
    expect(conf).toContain('listen 127.0.0.1:18090;');
    expect(conf).toContain('listen 127.0.0.1:18091;');
    for (const port of [8101, 8102, 8201, 8202]) expect(conf).toContain(`server 127.0.0.1:${port} `);
    expect(conf).toContain('limit_req zone=account_posts');
    expect(conf).toContain('pid /tmp/nginx.pid;');
  });
});

describe('serverEnv', () => {
  it('sets what the deployment owns and passes on every other server setting it is given', () => {
    const env = envOf(
      serverEnv(
        { DOCKYARD_MAX_SANDBOXES: '12', DOCKYARD_PORT: '9999', DOCKYARD_SIGN_IN_LIMIT: '5', HOME: '/root' },
        settings,
        'pw',
      ),
    );
    expect(env).toMatchObject({
      DOCKYARD_HOST: '127.0.0.1',
      DOCKYARD_DATA_DIR: '/var/lib/dockyard',
      DATABASE_URL: 'postgres://dockyard:pw@127.0.0.1:5433/dockyard',
      DOCKYARD_PUBLIC_URL: 'http://localhost:18090',
      DOCKYARD_PREVIEW_URL: 'http://localhost:18091',
      DOCKYARD_MAX_SANDBOXES: '12',
      DOCKYARD_SIGN_IN_LIMIT: '5',
      DOCKYARD_TRUSTED_PROXIES: '127.0.0.1',
    });
    expect(env).not.toHaveProperty('DOCKYARD_SANDBOX_CREATE_LIMIT');
    expect(env).not.toHaveProperty('DOCKYARD_PORT');
    expect(env).not.toHaveProperty('HOME');
  });

  it('refuses a value an environment file cannot carry', () => {
    expect(() => serverEnv({ DOCKYARD_ADMINS: 'a\nb' }, settings, 'pw')).toThrow(/DOCKYARD_ADMINS/);
  });

  it('gives PostgreSQL the same password', () => {
    expect(envOf(postgresEnv('pw'))).toEqual({
      POSTGRES_USER: 'dockyard',
      POSTGRES_DB: 'dockyard',
      POSTGRES_PASSWORD: 'pw',
    });
  });
});
