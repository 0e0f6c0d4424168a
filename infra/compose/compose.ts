// `npm run compose -- <command>`: Dockyard as several servers on one host (compose.yaml). `up`
// prepares the host (a shared data folder, the signing key, the generated files), takes the
// mirror over, starts it and seeds it, applies the network policy for its address, then starts
// PostgreSQL, the replicas and nginx in the background and waits until nginx answers ready.
// Any other command (down, ps, logs, ...) goes to Compose as it is.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuiltImage } from '../../images/build.ts';
import { hostRef, specByName } from '../../images/catalog.ts';
import { docker, inspectImage } from '../../images/lib/docker.ts';
import { ensureNetwork, mirrorAddress, seedMirror } from '../../images/mirror.ts';
import { MIRROR_CONTAINER, MIRROR_VOLUME, OWNER_LABEL } from '../../images/platform.ts';
import { loadOrCreateKey } from '../../sandbox-server/src/identity/signing.ts';
import { applyPolicy, SANDBOX_BRIDGE } from '../engine/network-policy.ts';
import { mustRun, run } from '../setup/lib/run.ts';
import { bold, dim, seconds, step } from '../setup/lib/steps.ts';
import type { SetupSettings } from '../setup/settings.ts';
import {
  composeNginxConfig,
  postgresEnv,
  REPLICA_FAIL_TIMEOUT_S,
  replicasOf,
  serverEnv,
  type Replica,
} from './generated.ts';
import type { ComposeSettings } from './settings.ts';

const COMPOSE_FILE = join(dirname(fileURLToPath(import.meta.url)), 'compose.yaml');
/** Compose's project name: its containers, network and the PostgreSQL volume carry it. */
export const PROJECT = 'dockyard';

/** Compose v2 when the Docker CLI has it, else Debian 12's docker-compose 1.29. */
async function composeCli(): Promise<string[]> {
  const answers = async (cmd: string[]) => (await run(cmd).catch(() => ({ code: 1 }))).code === 0;
  if (await answers(['docker', 'compose', 'version'])) return ['docker', 'compose'];
  if (await answers(['docker-compose', 'version'])) return ['docker-compose'];
  throw new Error('Docker Compose is not installed: apt-get install -y docker-compose (or the Compose v2 plugin).');
}

/** Compose with our project and file, and the variables compose.yaml reads. */
async function compose(args: string[], s: ComposeSettings, setup: SetupSettings, inherit = true) {
  const registry = await inspectImage(hostRef(specByName('registry')));
  const env = {
    ...process.env,
    DOCKYARD_COMPOSE_DATA_DIR: s.dataDir,
    DOCKYARD_COMPOSE_DB_PORT: String(s.dbPort),
    DOCKYARD_MIRROR_PORT: String(setup.mirror.port),
    DOCKYARD_MIRROR_UPSTREAM: setup.mirror.upstream ?? '',
    DOCKYARD_REGISTRY_IMAGE_ID: registry?.id ?? '',
  };
  const cmd = [...(await composeCli()), '-p', PROJECT, '-f', COMPOSE_FILE, ...args];
  return inherit ? run(cmd, { env, inherit: true }) : mustRun(cmd, { env });
}

/** `npm run compose -- <anything but up>`: Compose as it is, on our project. */
export async function composePassThrough(args: string[], s: ComposeSettings, setup: SetupSettings): Promise<number> {
  return (await compose(args, s, setup)).code;
}

/**
 * The data folder, as a shared mount point: the replicas bind it with rshared propagation, so the
 * sandbox disks they loop-mount there show on the host, where the engine mounts them into sandboxes.
 * The bind onto itself is undone by a reboot; every `up` makes it again.
 */
async function shareDataDir(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const mounted = await run(['findmnt', '-n', '-o', 'PROPAGATION', '--mountpoint', dir]);
  if (mounted.code !== 0) await mustRun(['mount', '--bind', dir, dir]);
  if (!mounted.stdout.includes('shared')) await mustRun(['mount', '--make-rshared', dir]);
  return mounted.code === 0 ? 'already a shared mount' : 'bound onto itself as a shared mount';
}

/** The files compose.yaml reads from the data folder, written afresh (the password only once). */
function writeGenerated(s: ComposeSettings, replicas: readonly Replica[]): void {
  const dir = join(s.dataDir, 'compose');
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const passwordFile = join(dir, 'postgres.password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  writeFileSync(join(dir, 'server.env'), serverEnv(process.env, s, password), { mode: 0o600 });
  writeFileSync(join(dir, 'postgres.env'), postgresEnv(password), { mode: 0o600 });
  // nginx runs as www-data and reads it.
  writeFileSync(join(dir, 'nginx.conf'), composeNginxConfig(replicas, s));
  chmodSync(join(dir, 'nginx.conf'), 0o644);
}

/** Removes a mirror container Compose did not make (images/mirror.ts made it); its volume stays. */
async function takeOverMirror(): Promise<boolean> {
  const r = await run(['docker', 'container', 'inspect', MIRROR_CONTAINER]);
  if (r.code !== 0) return false;
  const [c] = JSON.parse(r.stdout) as Array<{ Config: { Labels: Record<string, string> | null } }>;
  if (c!.Config.Labels?.['com.docker.compose.project'] === PROJECT) return false;
  await docker(['rm', '-f', MIRROR_CONTAINER]);
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s (last: ${last}).`);
}

/** `npm run compose -- up [services...]`, after the set-up has built the images. */
export async function composeUp(
  args: string[],
  images: readonly BuiltImage[],
  s: ComposeSettings,
  setup: SetupSettings,
): Promise<number> {
  const started = performance.now();
  const replicas = replicasOf(readFileSync(COMPOSE_FILE, 'utf8'));
  await step('Data folder', async () => {
    const how = await shareDataDir(s.dataDir);
    // The replicas would race to create it on a fresh folder; one process makes it first.
    loadOrCreateKey(s.dataDir);
    writeGenerated(s, replicas);
    return { value: undefined, note: `${s.dataDir}: ${how}; signing key, nginx.conf, server.env written` };
  });
  await step('Registry mirror (compose service)', async () => {
    await ensureNetwork();
    await docker(['volume', 'create', '--label', `${OWNER_LABEL}=dockyard`, MIRROR_VOLUME]);
    const replaced = await takeOverMirror();
    await compose(['up', '-d', 'mirror'], s, setup, false);
    await waitFor('The mirror', `http://127.0.0.1:${setup.mirror.port}/v2/`, 20_000);
    const pushed = setup.mirror.upstream ? 0 : await seedMirror(images, setup.mirror, { complete: true });
    const mirrorIp = await mirrorAddress();
    await applyPolicy({ bridge: SANDBOX_BRIDGE, mirrorIp, mirrorPort: 5000, egressAllow: setup.egressAllow });
    const how = replaced ? 'replaced the one npm run images started (same volume)' : 'running';
    return { value: undefined, note: `${how} at ${mirrorIp}, ${pushed} tags pushed, network policy applied` };
  });
  const rest = args.filter((a) => a !== '-d' && a !== '--detach');
  const up = async (more: string[]) => {
    if ((await compose(['up', '-d', ...more], s, setup)).code !== 0) throw new Error('Compose failed (see above).');
  };
  const ready = (rep: Replica) => waitFor(rep.service, `http://127.0.0.1:${rep.port}/readyz`, 180_000);
  const containerOf = async (service: string) => (await compose(['ps', '-q', service], s, setup, false)).stdout.trim();
  const flags = rest.filter((a) => a.startsWith('-'));
  const services = rest.filter((a) => !a.startsWith('-'));
  await step(`PostgreSQL, ${replicas.length} servers, nginx`, async () => {
    if (services.length) {
      await up(rest);
      await Promise.all(replicas.map(ready));
    } else {
      await up(['--remove-orphans', ...flags, 'postgres', 'nginx']);
      // One replica at a time, each ready before the next is replaced, so learners always have one.
      // nginx left a replaced one out when its connections were refused: wait until it takes it back.
      for (const [i, rep] of replicas.entries()) {
        const before = await containerOf(rep.service);
        await up([...flags, rep.service]); // after PostgreSQL is healthy (its depends_on)
        await ready(rep);
        const replaced = (await containerOf(rep.service)) !== before;
        if (replaced && i < replicas.length - 1) await sleep((REPLICA_FAIL_TIMEOUT_S + 1) * 1000);
      }
    }
    // A running nginx keeps its container (Compose sees no change) but must read the new nginx.conf.
    await compose(['kill', '-s', 'SIGHUP', 'nginx'], s, setup, false);
    await waitFor('nginx', `http://127.0.0.1:${s.port}/readyz`, 30_000);
    return { value: undefined, note: 'every replica and nginx answer /readyz' };
  });
  const url = serverEnvValue(s, 'DOCKYARD_PUBLIC_URL');
  console.log(`\n  Dockyard is running (${replicas.length} servers behind nginx): open ${bold(`${url}/`)}`);
  console.log(
    `  Up in ${seconds(performance.now() - started)}. ${dim('Logs: npm run compose -- logs -f   Stop: npm run compose -- down')}\n`,
  );
  return 0;
}

/** A value the replicas get, as written to server.env. */
function serverEnvValue(s: ComposeSettings, key: string): string {
  const line = readFileSync(join(s.dataDir, 'compose', 'server.env'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1) ?? '';
}
