// Set-up settings: defaults, validation that names the setting, and the apt mirror detection.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debianMirror, readSettings, SETTING_NAMES, SettingsError } from './settings.ts';

const noSources = () => [];

describe('readSettings', () => {
  it('has defaults for everything', () => {
    expect(readSettings({}, noSources)).toEqual({
      mirror: { port: 5000, upstream: undefined },
      aptMirror: 'http://deb.debian.org/debian',
      engineLog: '/var/log/dockyard/dockerd.log',
      egressAllow: [],
      cacheDir: join(homedir(), '.cache/dockyard'),
    });
  });

  it('reads the mirror port and an upstream for online mode', () => {
    const s = readSettings(
      { DOCKYARD_MIRROR_PORT: '5001', DOCKYARD_MIRROR_UPSTREAM: 'https://registry-1.docker.io/' },
      noSources,
    );
    expect(s.mirror).toEqual({ port: 5001, upstream: 'https://registry-1.docker.io' });
  });

  it('rejects bad values with the setting name', () => {
    expect(() => readSettings({ DOCKYARD_MIRROR_PORT: 'five' }, noSources)).toThrow(SettingsError);
    expect(() => readSettings({ DOCKYARD_MIRROR_PORT: '70000' }, noSources)).toThrow(
      /DOCKYARD_MIRROR_PORT must be a TCP port/,
    );
    expect(() => readSettings({ DOCKYARD_MIRROR_UPSTREAM: 'docker.io' }, noSources)).toThrow(
      /DOCKYARD_MIRROR_UPSTREAM must be an http/,
    );
  });
});

describe('debianMirror', () => {
  it('reads a deb822 stanza for bookworm and skips the security one', () => {
    const security = 'Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n';
    const main =
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n';
    expect(debianMirror([`${security}\n${main}`])).toBe('http://mirror.example/debian');
  });

  it('reads a one-line source', () => {
    expect(debianMirror(['deb [arch=amd64] http://ftp.example/debian bookworm main\n'])).toBe(
      'http://ftp.example/debian',
    );
  });

  it('falls back to deb.debian.org', () => {
    expect(debianMirror(['deb http://archive.ubuntu.com/ubuntu jammy main\n'])).toBe('http://deb.debian.org/debian');
  });
});

describe('documentation', () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  it.each([...SETTING_NAMES, 'DOCKYARD_CACHE_DIR'])('README documents %s', (name) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });
});
