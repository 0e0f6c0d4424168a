// The check schema: what an exercise asserts about the state of a learner's sandbox. Each kind is
// typed and Docker-aware; the grader (sandbox-server/src/grader/) reads the sandbox's own engine
// to evaluate it. Every field says what it means, for authors and for the generated docs.
import { z } from 'zod';

const name = (what: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$/, `a Docker ${what} name`)
    .describe(`The ${what}'s name`);

/** A text expectation: equal to a string, or matching a regular expression. */
export const textMatchSchema = z
  .union([
    z.string().describe('Must be exactly this'),
    z
      .object({ matches: z.string().min(1).describe('A regular expression (JavaScript syntax) it must match') })
      .strict(),
  ])
  .describe('Exact text, or { matches: regex }');

const port = z.number().int().min(1).max(65535);
const relPath = z.string().min(1).max(1024);

const common = {
  id: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .describe('Stable id of the check within its exercise (kebab-case); progress is stored under it'),
  title: z.string().min(3).max(140).describe('What the learner must achieve, as shown in the check list'),
  points: z.number().int().min(0).max(100).default(1).describe('Weight of the check in the score (partial credit)'),
  hint: z.string().min(3).max(400).optional().describe('Shown once the check fails: what to try next'),
  node: z
    .string()
    .regex(/^node[1-9]$/)
    .optional()
    .describe('The node whose sandbox it reads, in a lesson of several nodes (node1 when absent)'),
};

export const containerCheckSchema = z
  .object({
    ...common,
    kind: z.literal('container'),
    name: name('container').optional().describe('The container, by name'),
    image: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Or: any container from this image (as given to docker run); passes if one of them meets every expectation',
      ),
    state: z
      .enum(['running', 'exited', 'healthy', 'created'])
      .optional()
      .describe('running; exited (see exitCode); healthy (running and its health check passes); created'),
    exitCode: z.number().int().optional().describe('With state exited: the exit code'),
    minRestarts: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'Started again at least this many times after its first start (docker restart, stop+start, restart policy)',
      ),
    imageIs: z.string().min(1).optional().describe('The image it was created from, as given to docker run'),
    ports: z
      .array(
        z.object({ port: port.describe('Published on the sandbox'), target: port.describe("The container's port") }),
      )
      .optional()
      .describe('Published TCP ports, e.g. -p 8080:80 is { port: 8080, target: 80 }'),
    env: z.record(z.string(), textMatchSchema).optional().describe('Environment variables and their values'),
    mounts: z
      .array(
        z.object({
          destination: z.string().startsWith('/').describe('Path inside the container'),
          type: z.enum(['volume', 'bind', 'tmpfs']).optional(),
          volume: z.string().optional().describe('For a volume mount: the volume name'),
          source: z.string().optional().describe('For a bind mount: the path on the sandbox'),
        }),
      )
      .optional()
      .describe('Mounts the container must have'),
    networks: z.array(z.string().min(1)).optional().describe('Networks it must be attached to'),
    user: textMatchSchema.optional().describe('The user it runs as (Config.User); "" is root'),
    nonRoot: z.boolean().optional().describe('Runs as a user other than root (by its config)'),
    memoryBytes: z.number().int().min(1).optional().describe('Memory limit, in bytes'),
    cpus: z.number().min(0.01).optional().describe('CPU limit, in CPUs (--cpus)'),
    pids: z.number().int().min(1).optional().describe('Process limit (--pids-limit)'),
    labels: z.record(z.string(), textMatchSchema).optional().describe('Labels and their values'),
    logDriver: z.string().min(1).optional().describe('Logging driver, e.g. json-file'),
    logOptions: z.record(z.string(), z.string()).optional().describe('Logging options, e.g. { "max-size": "1m" }'),
  })
  .strict()
  .refine((c) => Boolean(c.name) !== Boolean(c.image), { message: 'give exactly one of name and image' })
  .describe('A container, by name or by image, and what must be true of it');

export const imageCheckSchema = z
  .object({
    ...common,
    kind: z.literal('image'),
    ref: z.string().min(1).describe('The image, name:tag (tag defaults to latest)'),
    exists: z.boolean().default(true).describe('false: the image must NOT exist (e.g. after docker rmi)'),
    sameAs: z.string().min(1).optional().describe('Another name:tag that must be the very same image (same id)'),
    maxSizeBytes: z.number().int().min(1).optional().describe('Largest allowed size, in bytes'),
    labels: z.record(z.string(), textMatchSchema).optional().describe('Labels and their values'),
    user: textMatchSchema.optional().describe('Its USER'),
    nonRoot: z.boolean().optional().describe('Its USER is set and is not root (or 0)'),
    exposedPorts: z.array(port).optional().describe('Ports it EXPOSEs (TCP)'),
    healthcheck: z.boolean().optional().describe('It has a HEALTHCHECK'),
    maxLayers: z.number().int().min(1).optional().describe('At most this many layers'),
    containsPaths: z.array(z.string().startsWith('/')).optional().describe('Paths that must exist in its filesystem'),
    lacksPaths: z
      .array(z.string().startsWith('/'))
      .optional()
      .describe('Paths that must not exist (e.g. /usr/local/go: no toolchain in the final image)'),
  })
  .strict()
  .describe('An image under a name, and what must be true of it');

export const networkCheckSchema = z
  .object({
    ...common,
    kind: z.literal('network'),
    name: name('network'),
    driver: z.string().min(1).optional().describe('bridge, host, none, overlay, ...'),
    containers: z.array(z.string().min(1)).optional().describe('Containers (by name) that must be attached'),
  })
  .strict()
  .describe('A network exists, with its driver and attached containers');

export const reachCheckSchema = z
  .object({
    ...common,
    kind: z.literal('reach'),
    from: name('container').describe('The container the connection starts from'),
    to: z.string().min(1).describe('The name it connects to (a container name or network alias)'),
    port: port.describe('The TCP port it connects to'),
    blocked: z
      .boolean()
      .default(false)
      .describe(
        'Turn the check around: `from` must NOT reach `to` (no name, or no connection), as between separate networks',
      ),
  })
  .strict()
  .describe(
    'A container resolves another by name and reaches it on a port (from inside its network namespace), or, with blocked, cannot',
  );

export const volumeCheckSchema = z
  .object({
    ...common,
    kind: z.literal('volume'),
    name: name('volume'),
    mountedBy: z.string().min(1).optional().describe('A container (by name) that mounts it'),
    containsPaths: z.array(relPath).optional().describe('Paths, relative to the volume root, that must exist in it'),
  })
  .strict()
  .describe('A volume exists, who mounts it, and what it holds');

export const httpCheckSchema = z
  .object({
    ...common,
    kind: z.literal('http'),
    port: port.describe('The port published on the sandbox'),
    path: z.string().startsWith('/').default('/').describe('The path to GET'),
    status: z.number().int().min(100).max(599).default(200).describe('The expected HTTP status'),
    body: textMatchSchema.optional().describe('The expected body, exactly or by { matches }'),
  })
  .strict()
  .describe('A published port answers HTTP with a status and body');

export const fileCheckSchema = z
  .object({
    ...common,
    kind: z.literal('file'),
    path: relPath.describe('Relative paths are in ~/work; absolute ones anywhere (in the sandbox, or in `container`)'),
    container: name('container').optional().describe('Look inside this (running or stopped) container instead'),
    exists: z.boolean().default(true).describe('false: the file must NOT exist'),
    contains: z.string().optional().describe('Text the file must contain'),
    matches: z.string().optional().describe('A regular expression the file must match'),
  })
  .strict()
  .describe('A file exists, contains text or matches a pattern');

/** Dockerfile lint rules the grader knows (see sandbox-server/src/grader/dockerfile-lint.ts). */
export const DOCKERFILE_RULES = [
  'no-latest-base',
  'no-root-user',
  'apt-lists-cleaned',
  'copy-not-add',
  'exec-form-cmd',
] as const;

export const dockerfileCheckSchema = z
  .object({
    ...common,
    kind: z.literal('dockerfile'),
    path: relPath.default('Dockerfile').describe('The Dockerfile, relative to ~/work'),
    stages: z
      .object({ min: z.number().int().min(1).optional(), max: z.number().int().min(1).optional() })
      .optional()
      .describe('How many build stages (FROM lines)'),
    baseImages: z
      .array(z.string().min(1))
      .optional()
      .describe('Image names (without tag) the stages start FROM, in order; "scratch" counts'),
    order: z
      .array(z.string().min(2))
      .min(2)
      .optional()
      .describe('Instructions that must appear in this order, each as a prefix like "COPY package.json" or "RUN npm"'),
    nonRootUser: z.boolean().optional().describe('The final stage sets a USER other than root'),
    healthcheck: z.boolean().optional().describe('The final stage has a HEALTHCHECK'),
    noFindings: z.array(z.enum(DOCKERFILE_RULES)).optional().describe('Lint rules that must report nothing'),
  })
  .strict()
  .describe("The learner's Dockerfile, parsed: stages, bases, instruction order, USER, HEALTHCHECK, lint");

export const composeCheckSchema = z
  .object({
    ...common,
    kind: z.literal('compose'),
    file: relPath.default('compose.yaml').describe('The compose file, relative to ~/work'),
    project: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/)
      .optional()
      .describe("The project name (default: the file's folder name, as Compose picks it)"),
    services: z
      .array(
        z.object({
          name: z.string().min(1),
          state: z.enum(['running', 'healthy']).default('running'),
          replicas: z.number().int().min(1).optional().describe('Exactly this many containers'),
          dependsOn: z
            .array(
              z
                .object({
                  service: z.string().min(1).describe('A service this one waits for'),
                  condition: z
                    .enum(['service_started', 'service_healthy', 'service_completed_successfully'])
                    .default('service_started')
                    .describe('What it waits for, as `depends_on` says it in the file'),
                })
                .strict(),
            )
            .optional()
            .describe("The file's depends_on for this service, as Compose reads it"),
        }),
      )
      .optional()
      .describe("Services of the project and their containers' state"),
    valid: z.boolean().optional().describe('The file passes Compose validation (docker compose config)'),
    absent: z
      .array(z.string().min(1))
      .optional()
      .describe('Text that must not be in the file (a secret that belongs in .env)'),
  })
  .strict()
  .describe('A Compose project: its services running or healthy, replicas, a valid file, keys kept out of it');

export const registryCheckSchema = z
  .object({
    ...common,
    kind: z.literal('registry'),
    registry: z.string().min(1).default('localhost:5000').describe('host:port of the registry, as seen in the sandbox'),
    repository: z.string().min(1).describe('The repository, e.g. my-nginx'),
    tag: z.string().min(1).optional().describe('A tag it must have'),
  })
  .strict()
  .describe("An image is in a registry's catalog");

export const commandCheckSchema = z
  .object({
    ...common,
    kind: z.literal('command'),
    run: z.string().min(1).describe('Shell (bash) run in the sandbox, in ~/work'),
    why: z.string().min(10).describe('Why no typed check fits: commands are the last resort'),
    exitCode: z.number().int().default(0).describe('The expected exit code'),
    output: textMatchSchema.optional().describe('The expected output (stdout, trimmed)'),
  })
  .strict()
  .describe('Last resort: run a command and match its exit code and output');

export const checkSchema = z
  .discriminatedUnion('kind', [
    containerCheckSchema,
    imageCheckSchema,
    networkCheckSchema,
    reachCheckSchema,
    volumeCheckSchema,
    httpCheckSchema,
    fileCheckSchema,
    dockerfileCheckSchema,
    composeCheckSchema,
    registryCheckSchema,
    commandCheckSchema,
  ])
  .describe('One thing the grader checks');

export type TextMatch = z.infer<typeof textMatchSchema>;
export type Check = z.infer<typeof checkSchema>;
export type CheckKind = Check['kind'];
export type CheckOf<K extends CheckKind> = Extract<Check, { kind: K }>;
export const CHECK_KINDS = checkSchema.options.map((o) => o.shape.kind.value) as CheckKind[];
