// `npm start` / `npm test` / `npm run bench` / `npm run images` / `npm run compose` after the bootstrap:
// engine, dependencies, kernel limits and disk for the capacity, images, mirror, network policy, site,
// then the server, the test tiers, the benchmark or the compose deployment (infra/compose/).
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImages, selectSpecs, type BuiltImage } from '../../images/build.ts';
import { readComposeSettings } from '../compose/settings.ts';
import { ensureMirror, mirrorAddress, seedMirror } from '../../images/mirror.ts';
import { applyPolicy, SANDBOX_BRIDGE } from '../engine/network-policy.ts';
import { diskCapacityStep, kernelLimitsStep } from './capacity.ts';
import { ensureEngine } from './lib/engine.ts';
import { ensureLxcfs } from './lib/lxcfs.ts';
import { ensureRunsc } from './lib/runsc.ts';
import { LXCFS_DIR } from '../../sandbox-server/src/drivers/docker/resource-views.ts';
import { run } from './lib/run.ts';
import { keyOf, stampMatches, writeStamp } from './lib/stamp.ts';
import { bold, dim, red, seconds, step } from './lib/steps.ts';
import { readSettings, type SetupSettings } from './settings.ts';
import { runTiers, TIERS, type TierName } from './tiers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Read in main(), so a bad value ends in a clear message rather than a stack trace. */
let settings: SetupSettings;

async function engineStep() {
  await step('Docker Engine', async () => {
    const engine = await ensureEngine(join(ROOT, 'infra/engine/daemon.json'), settings.engineLog);
    const how = engine.startedByUs
      ? `started with infra/engine/daemon.json (log: ${settings.engineLog})`
      : 'already running';
    const warn = engine.userns
      ? ''
      : `\n    ${red('This engine runs without user namespaces')}: root in a sandbox would be root on this host, held` +
        `\n    back only by capabilities and seccomp. Turn them on: add "userns-remap": "default" to` +
        `\n    /etc/docker/daemon.json and restart the engine (it then starts with no images or containers;` +
        `\n    the set-up rebuilds ours). The server refuses this engine unless DOCKYARD_ALLOW_NO_USERNS=1.`;
    return { value: engine, note: `Engine ${engine.version}, ${how}${warn}` };
  });
}

async function lxcfsStep() {
  await step('Resource views (lxcfs)', async () => {
    const log = join(dirname(settings.engineLog), 'lxcfs.log');
    const state = await ensureLxcfs(LXCFS_DIR, log);
    const note = {
      running: `already serving ${LXCFS_DIR}: free, top and /proc/meminfo in a sandbox show its own limits`,
      started: `started on ${LXCFS_DIR} (log: ${log}): free, top and /proc/meminfo in a sandbox show its own limits`,
      missing: red('lxcfs is not installed: sandboxes show the host memory and CPUs (apt-get install lxcfs)'),
    }[state];
    return { value: state, note };
  });
}

async function dependenciesStep() {
  await step('npm dependencies', async () => {
    const stamp = join(ROOT, 'node_modules/.dockyard-key');
    const key = keyOf([join(ROOT, 'package-lock.json')], process.version);
    if (stampMatches(stamp, key)) return { value: undefined, note: 'up to date' };
    // Not `npm ci`: npm 11 writes lockfiles without other platforms' optional bindings (Astro's
    // compiler) and then its own `npm ci` rejects them. `install --no-save` installs the locked
    // tree and leaves package-lock.json as committed.
    const r = await run(['npm', 'install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: ROOT,
      inherit: true,
    });
    if (r.code !== 0) throw new Error('npm install failed (see above). Is the npm registry reachable?');
    writeStamp(stamp, key);
    return { value: undefined, note: 'installed as locked in package-lock.json' };
  });
}

/** `mirror: false` leaves the mirror and the network policy to the caller (the compose deployment runs its own). */
async function imagesStep(argv: string[], { onDemand = false, mirror = true } = {}): Promise<BuiltImage[]> {
  const force = argv.flatMap((a) =>
    a.startsWith('--force=') ? a.slice(8).split(',') : a === '--force' ? ['all'] : [],
  );
  const only = argv.filter((a) => !a.startsWith('--'));
  const built = step('Images', async () => {
    const started = performance.now();
    const images = await buildImages({ aptMirror: settings.aptMirror, force, only, onDemand });
    const built = images.filter((i) => i.built).length;
    return {
      value: images,
      note: `${built} built, ${images.length - built} up to date, in ${seconds(performance.now() - started)}`,
    };
  });
  if (!mirror) return built;
  return built
    .then((images) =>
      step('Registry mirror', async () => {
        const url = await ensureMirror(settings.mirror);
        if (settings.mirror.upstream) {
          return { value: undefined, note: `serving at ${url} as a pull-through cache of ${settings.mirror.upstream}` };
        }
        const pushed = await seedMirror(images, settings.mirror, { complete: only.length === 0 });
        return { value: undefined, note: `serving at ${url}, ${pushed ? `${pushed} tags pushed` : 'already seeded'}` };
      }),
    )
    .then(() =>
      step('Sandbox network policy', async () => {
        const mirrorIp = await mirrorAddress();
        const rules = await applyPolicy({
          bridge: SANDBOX_BRIDGE,
          mirrorIp,
          mirrorPort: 5000,
          egressAllow: settings.egressAllow,
        });
        const egress = settings.egressAllow.length
          ? `egress allowed to ${settings.egressAllow.join(', ')}`
          : 'no other egress';
        return {
          value: undefined,
          note: `${rules} iptables rules: sandboxes reach the mirror (${mirrorIp}), ${egress}`,
        };
      }),
    )
    .then(() => built);
}

/** Whether building these images needs the npm dependencies and the built site (the server image does). */
const needsSite = (argv: string[]): boolean =>
  selectSpecs(
    argv.filter((a) => !a.startsWith('--')),
    true,
  ).some((spec) => spec.repoInputs);

async function runscStep() {
  await step('gVisor (runsc)', async () => {
    const state = await ensureRunsc({
      cacheDir: settings.cacheDir,
      aptMirror: settings.aptMirror,
      srcDir: join(ROOT, 'infra/setup/runsc'),
    });
    const note =
      state.status === 'works'
        ? `${state.version}, ${state.how}: DOCKYARD_SANDBOX_RUNTIME=runsc is available`
        : red(`runsc does not work on this host, sandboxes run on runc only: ${state.reason}`);
    return { value: state, note };
  });
}

async function siteStep() {
  await step('Site', async () => {
    const stamp = join(ROOT, 'site/dist/.dockyard-key');
    const key = keyOf([join(ROOT, 'site'), join(ROOT, 'content'), join(ROOT, 'package-lock.json')]);
    if (stampMatches(stamp, key)) return { value: undefined, note: 'up to date' };
    const r = await run(['npm', 'run', '--silent', 'build', '-w', 'site'], { cwd: ROOT, inherit: true });
    if (r.code !== 0) throw new Error('The site build failed (see above).');
    writeStamp(stamp, key);
    return { value: undefined, note: 'built into site/dist' };
  });
}

async function startServer(): Promise<number> {
  console.log(bold('▸ Server'));
  const child = spawn(process.execPath, [join(ROOT, 'sandbox-server/src/main.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, DOCKYARD_SITE_DIR: process.env.DOCKYARD_SITE_DIR ?? join(ROOT, 'site/dist') },
  });
  // Ctrl-C reaches the server too (same process group); wait for it to finish closing.
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  return new Promise((res) => child.on('exit', (code, signal) => res(code ?? (signal === 'SIGINT' ? 0 : 1))));
}

/** `npm run dev`: the server, and Astro's dev server in front of it for the pages (hot reload). */
async function startDev(): Promise<number> {
  const serverPort = Number(process.env.DOCKYARD_PORT ?? 8080);
  const devPort = Number(process.env.DOCKYARD_DEV_PORT ?? 4321);
  console.log(bold('▸ Server and Astro dev server'));
  const server = spawn(process.execPath, [join(ROOT, 'sandbox-server/src/main.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
    // Terminals may open from the dev server's origin too.
    env: {
      ...process.env,
      DOCKYARD_SITE_DIR: process.env.DOCKYARD_SITE_DIR ?? join(ROOT, 'site/dist'),
      DOCKYARD_ALLOWED_ORIGINS: [
        process.env.DOCKYARD_ALLOWED_ORIGINS,
        `http://localhost:${devPort}`,
        `http://127.0.0.1:${devPort}`,
      ]
        .filter(Boolean)
        .join(','),
    },
  });
  const astro = spawn('npx', ['astro', 'dev', '--port', String(devPort), '--host', '127.0.0.1'], {
    cwd: join(ROOT, 'site'),
    stdio: 'inherit',
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', DOCKYARD_DEV_API: `http://127.0.0.1:${serverPort}` },
  });
  console.log(`  Open ${bold(`http://localhost:${devPort}/`)}: lessons and components reload as you save them.`);
  const stop = (sig: NodeJS.Signals) => (server.kill(sig), astro.kill(sig));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return new Promise((res) => {
    // Either one ending ends both: a dev server without its API (or the reverse) is no use.
    const done = (code: number | null) => (stop('SIGTERM'), res(code ?? 0));
    server.on('exit', done);
    astro.on('exit', done);
  });
}

async function main(): Promise<number> {
  const [mode = 'start', ...argv] = process.argv.slice(2);
  settings = readSettings(process.env);
  const started = performance.now();
  const compose = mode === 'compose' ? readComposeSettings(process.env) : undefined;
  if (compose && argv[0] !== 'up') {
    // Only after the dependencies: it reads compose.yaml with them.
    await dependenciesStep();
    const { composePassThrough } = await import('../compose/compose.ts');
    return composePassThrough(argv, compose, settings);
  }
  // The capacity checks below read the server's settings: the replicas' data folder is the compose one.
  if (compose) process.env.DOCKYARD_DATA_DIR = compose.dataDir;
  await engineStep();
  await lxcfsStep();
  if (mode === 'images') {
    // `npm run images` builds the server image too, from the dependencies and the built site.
    if (needsSite(argv)) {
      await dependenciesStep();
      await siteStep();
    }
    await imagesStep(argv, { onDemand: true });
    return 0;
  }
  await dependenciesStep();
  await kernelLimitsStep();
  await diskCapacityStep();
  if (compose) {
    await siteStep();
    const images = await imagesStep([], { onDemand: true, mirror: false });
    await runscStep();
    console.log(dim(`Set-up done in ${seconds(performance.now() - started)}.`));
    const { composeUp } = await import('../compose/compose.ts');
    return composeUp(argv.slice(1), images, compose, settings);
  }
  await imagesStep([]);
  await runscStep();
  await siteStep();
  console.log(dim(`Set-up done in ${seconds(performance.now() - started)}.`));
  if (mode === 'setup') return 0;
  if (mode === 'start') return startServer();
  if (mode === 'dev') return startDev();
  if (mode === 'bench') {
    const r = await run([process.execPath, join(ROOT, 'sandbox-server/bench/bench.ts')], { cwd: ROOT, inherit: true });
    return r.code;
  }
  if (mode === 'test') {
    const isTier = (a: string): a is TierName => (TIERS as readonly string[]).includes(a);
    const only = argv.filter(isTier);
    // Anything else names exercises: `npm run content:verify -- go-multistage` proves that one only.
    const exercises = argv.filter((a) => !isTier(a) && !a.startsWith('-'));
    return runTiers(ROOT, only.length ? only : [...TIERS], { exercises });
  }
  throw new Error(`Unknown mode "${mode}". Use start, dev, test, bench, images, compose or setup.`);
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`\n${red('✗')} ${err.message}`);
    process.exit(1);
  },
);
