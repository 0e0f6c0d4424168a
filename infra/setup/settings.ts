// The set-up's own settings, read once from the environment and validated by hand: this runs
// before `npm ci`, so it cannot use zod. The server reads its settings in sandbox-server/src/config.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEgressAllow } from '../engine/network-policy.ts';

function parseCidrs(raw: string): string[] {
  try {
    return parseEgressAllow(raw);
  } catch (err) {
    throw new SettingsError((err as Error).message);
  }
}

/** Every variable this module reads; README's configuration table lists each (a test checks). */
export const SETTING_NAMES = [
  'DOCKYARD_MIRROR_PORT',
  'DOCKYARD_MIRROR_UPSTREAM',
  'DOCKYARD_APT_MIRROR',
  'DOCKYARD_ENGINE_LOG',
  'DOCKYARD_EGRESS_ALLOW',
] as const;

export interface SetupSettings {
  mirror: { port: number; upstream: string | undefined };
  aptMirror: string;
  engineLog: string;
  /** Public CIDRs sandboxes may reach besides the mirror. */
  egressAllow: readonly string[];
  /** Where built and downloaded tools are kept between runs (Node 24, the VM, runsc). */
  cacheDir: string;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

function portOf(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new SettingsError(
      `${name} must be a TCP port (1-65535), not "${raw}". See the configuration table in README.md.`,
    );
  }
  return n;
}

function urlOf(name: string, raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  if (!/^https?:\/\/[^\s/]+/.test(raw)) {
    throw new SettingsError(`${name} must be an http(s) URL such as https://registry-1.docker.io, not "${raw}".`);
  }
  return raw.replace(/\/+$/, '');
}

/** Validates the environment and returns frozen settings, or throws a SettingsError naming the setting. */
export function readSettings(env: NodeJS.ProcessEnv, aptSources: () => string[] = hostAptSources): SetupSettings {
  return Object.freeze({
    mirror: Object.freeze({
      port: portOf('DOCKYARD_MIRROR_PORT', env.DOCKYARD_MIRROR_PORT, 5000),
      upstream: urlOf('DOCKYARD_MIRROR_UPSTREAM', env.DOCKYARD_MIRROR_UPSTREAM),
    }),
    aptMirror: urlOf('DOCKYARD_APT_MIRROR', env.DOCKYARD_APT_MIRROR) ?? debianMirror(aptSources()),
    engineLog: env.DOCKYARD_ENGINE_LOG || '/var/log/dockyard/dockerd.log',
    egressAllow: Object.freeze(parseCidrs(env.DOCKYARD_EGRESS_ALLOW ?? '')),
    // As infra/setup/bootstrap.sh chooses it.
    cacheDir: env.DOCKYARD_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dockyard'),
  });
}

/** The texts of this machine's apt source files. */
function hostAptSources(): string[] {
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    files.push(...readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)));
  }
  return files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
}

/** The Debian bookworm mirror named in apt sources (deb822 or one-line), else deb.debian.org. */
export function debianMirror(sources: readonly string[]): string {
  for (const text of sources) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:(.*)$/m.exec(stanza)?.[1] ?? '';
      if (uri && !uri.includes('security') && /(^|\s)bookworm(\s|$)/.test(suites)) return uri;
    }
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/gm)) {
      if (!m[1]!.includes('security')) return m[1]!;
    }
  }
  return 'http://deb.debian.org/debian';
}
