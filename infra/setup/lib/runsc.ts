// A gVisor runsc that works on this kernel: the distribution's when a probe shows it starts a
// networked container, else one built from Debian's source with the upstream fix (infra/setup/runsc/).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { inputKey } from '../../../images/lib/key.ts';
import { killLeftovers } from './leftovers.ts';
import { run } from './run.ts';

/** Where infra/engine/daemon.json registers the `runsc` runtime. */
export const RUNSC_PATH = '/usr/bin/runsc';
/** The image the build runs in (Debian 13, made by the image builder). */
const BUILD_IMAGE = 'dockyard-lib/debian:13';
/** A tiny image with a shell, for the probe. */
const PROBE_IMAGE = 'dockyard-lib/busybox:latest';

export type RunscState =
  | { status: 'works'; how: 'as installed' | 'installed from the cache' | 'built'; version: string }
  | { status: 'broken'; reason: string };

/**
 * What a sandbox needs of runsc, in a container with the default (bridge) network: a network at all
 * (Debian's runsc up to 20240729 fails on Linux 6.11 and later: "cannot run with network enabled in
 * root network namespace"), and setns(2) into a PID namespace, which runc inside uses for every
 * `docker exec` (gVisor 20240729 answers EINVAL).
 */
const PROBE = [
  'ip addr | grep -q eth0 || exit 1',
  'unshare -p -f sleep 5 & sleep 0.3',
  'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sleep ] && child=${p#/proc/}; done',
  'nsenter -t "$child" -p true',
].join('\n');
/** The failures the fixed build repairs. */
const KNOWN_DEFECTS = /root network namespace|reassociate to namespace 'pid'/;

export async function probeRunsc(runtime = 'runsc'): Promise<{ ok: boolean; reason: string }> {
  const made = await run([
    'docker',
    'create',
    '--runtime',
    runtime,
    '--cap-add',
    'SYS_ADMIN',
    PROBE_IMAGE,
    'sh',
    '-c',
    PROBE,
  ]);
  const id = made.stdout.trim();
  if (made.code !== 0 || !id) return { ok: false, reason: (made.stderr || made.stdout).trim().split('\n')[0] ?? '' };
  const r = await run(['docker', 'start', '-a', id]);
  await run(['docker', 'rm', '-f', id]);
  // A runsc that failed to start the container leaves its processes behind otherwise.
  if (r.code !== 0) await killLeftovers(id);
  const reason = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
  return { ok: r.code === 0, reason };
}

const versionOf = async (bin: string) =>
  (await run([bin, '--version'])).stdout.split('\n')[0]?.replace(/^runsc version /, '') ?? '?';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Makes `runsc` on this engine work: probes the installed one (about 1 s), and when it fails the
 * way Debian's does on new kernels, installs the fixed build, from the cache or built once (about
 * 2 min) in a Debian 13 container from Debian's source package. The inputs' hash names the cache
 * entry, so a changed patch or script builds again.
 */
export async function ensureRunsc(opts: { cacheDir: string; aptMirror: string; srcDir: string }): Promise<RunscState> {
  // Relative paths and contents only: the same inputs in another checkout find the same entry.
  const key = inputKey(opts.srcDir);
  const cache = join(opts.cacheDir, 'runsc');
  // One of our earlier builds, from other patches, passes the probe but lacks the newer fixes.
  const outdated = ownBuildOf(cache, key);
  if (!outdated) {
    const first = await probeRunsc();
    if (first.ok) return { status: 'works', how: 'as installed', version: await versionOf(RUNSC_PATH) };
    if (!KNOWN_DEFECTS.test(first.reason)) return { status: 'broken', reason: first.reason };
  }

  const dir = join(cache, key);
  const built = join(dir, 'runsc');
  let how: 'installed from the cache' | 'built' = 'installed from the cache';
  if (!existsSync(built)) {
    how = 'built';
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true, mode: 0o777 });
    // Written by the build container's root, which is a remapped uid under user namespaces.
    await run(['chmod', '0777', tmp]);
    const r = await run([
      'docker',
      'run',
      '--rm',
      '--label',
      'org.dockyard.owner=dockyard',
      '-e',
      `APT_MIRROR=${opts.aptMirror}`,
      '-v',
      `${opts.srcDir}:/patches:ro`,
      '-v',
      `${tmp}:/out`,
      BUILD_IMAGE,
      'sh',
      '/patches/build.sh',
    ]);
    if (r.code !== 0 || !existsSync(join(tmp, 'runsc'))) {
      const tail = (r.stdout + r.stderr).trim().split('\n').slice(-15).join('\n');
      return { status: 'broken', reason: `building runsc from Debian's source failed:\n${tail}` };
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  if (!existsSync(RUNSC_PATH) || sha(RUNSC_PATH) !== sha(built)) {
    // Beside, then renamed over: a runsc the engine is starting at this moment is never half-written.
    copyFileSync(built, `${RUNSC_PATH}.dockyard-new`);
    await run(['chmod', '0755', `${RUNSC_PATH}.dockyard-new`]);
    renameSync(`${RUNSC_PATH}.dockyard-new`, RUNSC_PATH);
  }
  const again = await probeRunsc();
  if (!again.ok) return { status: 'broken', reason: `the fixed runsc fails too: ${again.reason}` };
  return { status: 'works', how, version: await versionOf(RUNSC_PATH) };
}

/**
 * Whether the installed runsc is a build of ours from other inputs than `key` (its bytes are those
 * of another cache entry): then it is replaced by the build of the current patches.
 */
function ownBuildOf(cache: string, key: string): boolean {
  if (!existsSync(RUNSC_PATH) || !existsSync(cache)) return false;
  const installed = sha(RUNSC_PATH);
  return readdirSync(cache).some(
    (entry) =>
      entry !== key && existsSync(join(cache, entry, 'runsc')) && sha(join(cache, entry, 'runsc')) === installed,
  );
}
