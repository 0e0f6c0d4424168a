// The registry mirror: a registry container that serves the library images to every sandbox.
import { hostRef, hubName, registryPath, specByName } from './catalog.ts';
import type { BuiltImage } from './build.ts';
import { docker, inspectImage } from './lib/docker.ts';
import { SANDBOX_BRIDGE } from '../infra/engine/network-policy.ts';
import { run } from '../infra/setup/lib/run.ts';
import { MIRROR_ALIAS, MIRROR_CONTAINER, MIRROR_VOLUME, OWNER_LABEL, SANDBOX_NETWORK } from './platform.ts';

export interface MirrorOptions {
  /** Host port (on 127.0.0.1) the builder pushes to. */
  port: number;
  /**
   * Online mode: the registry the mirror proxies and caches (e.g. https://registry-1.docker.io).
   * A proxying registry refuses pushes, so Dockyard's own images are not seeded then.
   */
  upstream?: string;
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');

const BRIDGE_OPTION = 'com.docker.network.bridge.name';

/**
 * Creates the sandbox network when missing, with a fixed bridge name the network policy's
 * iptables rules match on. A network from an older set-up (no such name) is recreated when
 * only the mirror uses it.
 */
export async function ensureNetwork(): Promise<void> {
  const r = await run(['docker', 'network', 'inspect', SANDBOX_NETWORK]);
  if (r.code === 0) {
    const [net] = JSON.parse(r.stdout) as Array<{
      Options: Record<string, string>;
      Containers: Record<string, { Name: string }>;
    }>;
    if (net!.Options[BRIDGE_OPTION] === SANDBOX_BRIDGE) return;
    const users = Object.values(net!.Containers ?? {}).map((c) => c.Name);
    if (users.some((n) => n !== MIRROR_CONTAINER)) {
      throw new Error(
        `The network ${SANDBOX_NETWORK} comes from an older set-up and sandboxes still use it (${users.join(', ')}). ` +
          `Stop Dockyard, remove them (docker rm -f ${users.join(' ')}), and run this again.`,
      );
    }
    if (users.length) await docker(['rm', '-f', MIRROR_CONTAINER]);
    await docker(['network', 'rm', SANDBOX_NETWORK]);
  }
  await docker([
    'network',
    'create',
    '--driver',
    'bridge',
    '--opt',
    `${BRIDGE_OPTION}=${SANDBOX_BRIDGE}`,
    '--label',
    `${OWNER_LABEL}=dockyard`,
    SANDBOX_NETWORK,
  ]);
}

/** The mirror's address on the sandbox network (the policy lets sandboxes reach it). */
export async function mirrorAddress(): Promise<string> {
  const ip = await docker([
    'inspect',
    '-f',
    `{{(index .NetworkSettings.Networks "${SANDBOX_NETWORK}").IPAddress}}`,
    MIRROR_CONTAINER,
  ]);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip))
    throw new Error(`The mirror has no address on ${SANDBOX_NETWORK} (got "${ip}")`);
  return ip;
}

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts the mirror from the current registry image, replacing a container from an older one. */
export async function ensureMirror(opts: MirrorOptions): Promise<string> {
  await ensureNetwork();
  const image = hostRef(specByName('registry'));
  const imageId = (await inspectImage(image))?.id;
  if (!imageId) throw new Error(`The registry image ${image} is missing: build it first (npm run images).`);
  // What the running mirror must match; anything else and it is replaced (its data volume stays).
  const wanted: Record<string, string> = {
    [OWNER_LABEL]: 'dockyard',
    'org.dockyard.registry-image': imageId,
    'org.dockyard.mirror-port': String(opts.port),
    'org.dockyard.mirror-upstream': opts.upstream ?? '',
  };
  const r = await run(['docker', 'container', 'inspect', MIRROR_CONTAINER]);
  let keep = false;
  if (r.code === 0) {
    const [c] = JSON.parse(r.stdout) as Array<{
      State: { Running: boolean };
      Config: { Labels: Record<string, string> };
    }>;
    const current = c!.Config.Labels;
    keep = Object.entries(wanted).every(([k, v]) => (current[k] ?? '') === v);
    if (keep) {
      if (!c!.State.Running) await docker(['start', MIRROR_CONTAINER]);
    } else {
      await docker(['rm', '-f', MIRROR_CONTAINER]);
    }
  }
  if (!keep) {
    const labels = Object.entries(wanted).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const proxy = opts.upstream ? ['-e', `REGISTRY_PROXY_REMOTEURL=${opts.upstream}`] : [];
    await docker([
      'run',
      '-d',
      '--name',
      MIRROR_CONTAINER,
      '--restart',
      'unless-stopped',
      '--network',
      SANDBOX_NETWORK,
      '--network-alias',
      MIRROR_ALIAS,
      '-p',
      `127.0.0.1:${opts.port}:5000`,
      '-v',
      `${MIRROR_VOLUME}:/var/lib/registry`,
      '--memory',
      '256m',
      '--pids-limit',
      '200',
      ...labels,
      ...proxy,
      image,
    ]);
  }
  for (let i = 0; i < 100; i++) {
    if (await answers(opts.port)) return `http://127.0.0.1:${opts.port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `The mirror did not answer on 127.0.0.1:${opts.port} within 10 s. See: docker logs ${MIRROR_CONTAINER}`,
  );
}

/** The image id (config digest) the mirror holds for a name and tag, if any. */
export async function mirroredId(port: number, name: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/${registryPath(name)}/manifests/${tag}`, {
    headers: { Accept: MANIFEST_TYPES },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`The mirror answered ${res.status} for ${registryPath(name)}:${tag}`);
  const manifest = (await res.json()) as { config?: { digest?: string } };
  return manifest.config?.digest;
}

/** Pushes every tag whose image the mirror does not already hold. Returns how many were pushed. */
export async function seedMirror(
  images: readonly BuiltImage[],
  opts: MirrorOptions,
  { complete = false }: { complete?: boolean } = {},
): Promise<number> {
  if (opts.upstream) return 0;
  let pushed = 0;
  const wanted = new Map<string, Map<string, string>>();
  for (const image of images) {
    if (!image.spec.mirrored) continue;
    for (const name of [hubName(image.spec), ...(image.spec.aliases ?? [])]) {
      const tags = wanted.get(name) ?? new Map<string, string>();
      wanted.set(name, tags);
      for (const tag of image.tags) {
        tags.set(tag, image.id);
        if ((await mirroredId(opts.port, name, tag)) === image.id) continue;
        const target = `127.0.0.1:${opts.port}/${registryPath(name)}:${tag}`;
        await docker(['tag', image.id, target]);
        try {
          await docker(['push', '--quiet', target]);
        } finally {
          await docker(['rmi', target]);
        }
        pushed++;
      }
    }
  }
  // Seeded from the whole catalog: tags it no longer has (`nginx:1.22` after a move to 1.26) go, so
  // the mirror serves what a fresh set-up would and learners never pull a version we stopped building.
  if (complete) for (const [name, tags] of wanted) await dropStaleMirrorTags(opts.port, name, tags);
  return pushed;
}

/** Deletes the manifests of `name` that no wanted tag points at (the registry has deletes enabled). */
async function dropStaleMirrorTags(port: number, name: string, wanted: Map<string, string>): Promise<void> {
  const base = `http://127.0.0.1:${port}/v2/${registryPath(name)}`;
  const listed = (await (await fetch(`${base}/tags/list`)).json()) as { tags?: string[] | null };
  const stale = (listed.tags ?? []).filter((t) => !wanted.has(t));
  const keep = new Set<string>();
  for (const tag of wanted.keys()) {
    const digest = await manifestDigest(base, tag);
    if (digest) keep.add(digest);
  }
  for (const tag of stale) {
    const digest = await manifestDigest(base, tag);
    if (digest && !keep.has(digest)) await fetch(`${base}/manifests/${digest}`, { method: 'DELETE' });
  }
}

async function manifestDigest(base: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${base}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES } });
  return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}
