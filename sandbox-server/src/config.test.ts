// Configuration: defaults, coercion, freezing, and errors that name the bad setting.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('gives every setting a default', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, dockerSocket: '/var/run/docker.sock', logLevel: 'info' });
    expect(c.siteDir).toMatch(/site\/dist$/);
  });

  it('reads and coerces values from the environment, and freezes the result', () => {
    const c = loadConfig({ DOCKYARD_PORT: '9000', DOCKYARD_HOST: '0.0.0.0' });
    expect(c.port).toBe(9000);
    expect(c.host).toBe('0.0.0.0');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('rejects a bad value with a message naming the setting and what it means', () => {
    const attempt = () => loadConfig({ DOCKYARD_PORT: 'eighty', DOCKYARD_LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/DOCKYARD_PORT: .*TCP port the server listens on/);
    expect(attempt).toThrow(/DOCKYARD_LOG_LEVEL/);
  });

  it('runs the swarm driver with each host reached by its template, and over TCP only with the TLS folder', () => {
    expect(loadConfig({}).driver).toBe('docker');
    const unix = loadConfig({ DOCKYARD_DRIVER: 'swarm', DOCKYARD_SWARM_NODE_ENGINE: 'unix:///srv/{hostname}.sock' });
    expect([unix.driver, unix.swarm.nodeEngine, unix.swarm.tlsDir]).toEqual([
      'swarm',
      'unix:///srv/{hostname}.sock',
      undefined,
    ]);
    expect(() => loadConfig({ DOCKYARD_DRIVER: 'swarm' })).toThrow(/DOCKYARD_SWARM_TLS_DIR: required/);
    expect(loadConfig({ DOCKYARD_DRIVER: 'swarm', DOCKYARD_SWARM_TLS_DIR: '/run/secrets' }).swarm).toEqual({
      nodeEngine: 'tcp://{addr}:2376',
      tlsDir: '/run/secrets',
    });
    expect(() => loadConfig({ DOCKYARD_DRIVER: 'kubernetes' })).toThrow(
      /DOCKYARD_DRIVER: docker \(sandboxes on this host\)/,
    );
  });

  it('takes a postgres:// DATABASE_URL, and without one leaves the store on SQLite', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    const url = 'postgres://dockyard:secret@db.internal:5432/dockyard';
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    const attempt = () => loadConfig({ DATABASE_URL: 'mysql://dockyard:secret@db/dockyard' });
    expect(attempt).toThrow(/DATABASE_URL: a postgres:\/\/ URL/);
    expect(attempt).not.toThrow(/secret/);
  });
});
