// One evaluator per check kind. Each reads the sandbox through a Probe and says, in the learner's
// terms, what it found against what was expected. Trouble looking (engine silent, timeout) is a
// PlatformFault, reported as an error, never as a failed check.
import { posix } from 'node:path';
import type { Check, CheckKind, CheckOf, TextMatch } from '@dockyard/content';
import { finalInstructions, finalUser, isNonRoot, lint, parseDockerfile } from './dockerfile.ts';
import { GRADER_PREFIX } from '../sessions/engine-events.ts';
import { PlatformFault, WORK_DIR, type Probe } from './probe.ts';

export interface Outcome {
  pass: boolean;
  /** What was found, against what was expected (on failure), or what was confirmed (on success). */
  message: string;
}

const ok = (message: string): Outcome => ({ pass: true, message });
const no = (message: string): Outcome => ({ pass: false, message });

export function textMatches(actual: string | undefined, m: TextMatch): boolean {
  if (actual === undefined) return false;
  return typeof m === 'string' ? actual === m : new RegExp(m.matches).test(actual);
}
const describeMatch = (m: TextMatch) => (typeof m === 'string' ? `"${m}"` : `text matching /${m.matches}/`);
const quote = (s: string | undefined) =>
  s === undefined ? 'nothing' : `"${s.length > 80 ? `${s.slice(0, 77)}...` : s}"`;
/** Shell-quotes one argument. */
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const enc = encodeURIComponent;
/** Helper containers the grader makes; live grading ignores their events. */
const graderName = () => `${GRADER_PREFIX}${Math.random().toString(36).slice(2, 10)}`;

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** `nginx`, `nginx:latest` and `docker.io/library/nginx:latest` are one image reference. */
export function sameImageRef(a: string, b: string): boolean {
  const norm = (r: string) => {
    let s = r.replace(/^docker\.io\//, '').replace(/^library\//, '');
    if (!/:[^/]+$/.test(s) && !s.includes('@')) s += ':latest';
    return s;
  };
  return norm(a) === norm(b);
}

// Engine API shapes: only the fields the checks read.
interface ContainerInfo {
  Id: string;
  Name: string;
  Created: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Pid: number;
    /** "0001-01-01T00:00:00Z" until the container first stops. */
    FinishedAt: string;
    Health?: { Status: string };
  };
  Config: { Image: string; Env: string[] | null; User: string; Labels: Record<string, string> | null };
  HostConfig: {
    Memory: number;
    NanoCpus: number;
    CpuQuota: number;
    CpuPeriod: number;
    PidsLimit: number | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    /** `--tmpfs` mounts: they are not in Mounts (only `--mount type=tmpfs` ones are). */
    Tmpfs?: Record<string, string> | null;
  };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string }>;
  NetworkSettings: {
    Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null;
    Networks: Record<string, unknown>;
  };
}

interface ImageInfo {
  Id: string;
  Size: number;
  RootFS: { Layers?: string[] };
  Config: {
    User: string;
    Labels: Record<string, string> | null;
    ExposedPorts: Record<string, object> | null;
    Healthcheck?: { Test?: string[] };
  };
}

async function inspectContainer(p: Probe, name: string): Promise<ContainerInfo | undefined> {
  const r = await p.api<ContainerInfo>(`/containers/${enc(name)}/json`);
  // The engine takes an id prefix as well as a name: without a container named c1, `c1` would
  // find one whose id starts with c1.
  return r.status === 200 && (r.body.Id === name || short(r.body) === name) ? r.body : undefined;
}

const short = (c: ContainerInfo) => c.Name.replace(/^\//, '');

function stateText(c: ContainerInfo): string {
  if (c.State.Status === 'exited') return `exited (code ${c.State.ExitCode})`;
  if (c.State.Health && c.State.Running) return `running (${c.State.Health.Status})`;
  return c.State.Status;
}

/**
 * How many times the container started after its first start. The engine's event log keeps only
 * its last 256 events (health checks fill it fast), so it can undercount. A container that is
 * running but has stopped before (FinishedAt is set) was certainly started again: at least one.
 */
async function restarts(p: Probe, c: ContainerInfo): Promise<number> {
  const stoppedBefore = c.State.Running && !c.State.FinishedAt.startsWith('0001-') ? 1 : 0;
  const since = Math.floor(new Date(c.Created).getTime() / 1000) - 1;
  // Now, to the millisecond: an `until` in the future makes the engine wait for it.
  const until = (Date.now() / 1000).toFixed(3);
  const filters = enc(JSON.stringify({ container: [c.Id], event: ['start'] }));
  const r = await p.api<string>(`/events?since=${since}&until=${until}&filters=${filters}`);
  const starts = typeof r.body === 'string' ? r.body.split('\n').filter((l) => l.includes('"start"')).length : 1;
  return Math.max(starts - 1, c.RestartCount, stoppedBefore);
}

/** Every unmet expectation of a container check, in words. */
async function containerProblems(p: Probe, check: CheckOf<'container'>, c: ContainerInfo): Promise<string[]> {
  const name = short(c);
  const problems: string[] = [];
  const s = check.state;
  if (s === 'running' && !c.State.Running) problems.push(`${name} is ${stateText(c)}; it should be running`);
  if (s === 'exited' && c.State.Status !== 'exited') problems.push(`${name} is ${stateText(c)}; it should have exited`);
  if (s === 'created' && c.State.Status !== 'created')
    problems.push(`${name} is ${stateText(c)}; it should be created, not started`);
  if (s === 'healthy' && c.State.Health?.Status !== 'healthy') {
    problems.push(
      c.State.Health
        ? `${name} is ${stateText(c)}; it should be healthy`
        : `${name} has no health check, so it cannot become healthy`,
    );
  }
  if (check.exitCode !== undefined && (c.State.Status !== 'exited' || c.State.ExitCode !== check.exitCode)) {
    problems.push(`${name} is ${stateText(c)}; it should have exited with code ${check.exitCode}`);
  }
  if (check.imageIs && !sameImageRef(c.Config.Image, check.imageIs)) {
    problems.push(`${name} runs image ${c.Config.Image}; it should run ${check.imageIs}`);
  }
  for (const want of check.ports ?? []) {
    const bound = c.NetworkSettings.Ports?.[`${want.target}/tcp`] ?? [];
    if (!bound?.some((b) => Number(b.HostPort) === want.port)) {
      const got = Object.entries(c.NetworkSettings.Ports ?? {})
        .flatMap(([k, v]) => (v ?? []).map((b) => `${b.HostPort}->${k}`))
        .filter((x, i, all) => all.indexOf(x) === i);
      problems.push(
        `${name} should publish ${want.port}->${want.target}/tcp; it publishes ${got.length ? got.join(', ') : 'no ports'}`,
      );
    }
  }
  const env = new Map((c.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const [k, m] of Object.entries(check.env ?? {})) {
    if (!textMatches(env.get(k), m))
      problems.push(`${name}'s ${k} is ${quote(env.get(k))}; it should be ${describeMatch(m)}`);
  }
  for (const m of check.mounts ?? []) {
    const tmpfs = c.HostConfig.Tmpfs && m.destination in c.HostConfig.Tmpfs;
    const found: ContainerInfo['Mounts'][number] | undefined =
      c.Mounts.find((x) => x.Destination === m.destination) ??
      (tmpfs ? { Type: 'tmpfs', Source: '', Destination: m.destination } : undefined);
    if (!found) problems.push(`${name} has nothing mounted at ${m.destination}`);
    else if (m.type && found.Type !== m.type)
      problems.push(`${m.destination} in ${name} is a ${found.Type} mount; it should be a ${m.type} mount`);
    else if (m.volume && found.Name !== m.volume)
      problems.push(
        `${m.destination} in ${name} mounts ${found.Name ?? found.Source}; it should mount volume ${m.volume}`,
      );
    else if (m.source && found.Source !== posix.resolve(WORK_DIR, m.source))
      problems.push(`${m.destination} in ${name} mounts ${found.Source}; it should mount ${m.source}`);
  }
  for (const n of check.networks ?? []) {
    if (!(n in c.NetworkSettings.Networks)) {
      problems.push(
        `${name} is on ${Object.keys(c.NetworkSettings.Networks).join(', ') || 'no network'}; it should be on ${n}`,
      );
    }
  }
  if (check.user !== undefined && !textMatches(c.Config.User, check.user)) {
    problems.push(
      `${name} runs as ${c.Config.User ? quote(c.Config.User) : 'root'}; it should run as ${describeMatch(check.user)}`,
    );
  }
  if (check.nonRoot && !isNonRoot(c.Config.User)) problems.push(`${name} runs as root; it should run as another user`);
  if (check.memoryBytes !== undefined && c.HostConfig.Memory !== check.memoryBytes) {
    problems.push(`${name}'s memory limit is ${mib(c.HostConfig.Memory)}; it should be ${mib(check.memoryBytes)}`);
  }
  if (check.cpus !== undefined) {
    const cpus = c.HostConfig.NanoCpus
      ? c.HostConfig.NanoCpus / 1e9
      : c.HostConfig.CpuQuota > 0
        ? c.HostConfig.CpuQuota / (c.HostConfig.CpuPeriod || 100_000)
        : 0;
    if (Math.abs(cpus - check.cpus) > 0.001)
      problems.push(`${name}'s CPU limit is ${cpus || 'none'}; it should be ${check.cpus}`);
  }
  if (check.pids !== undefined && c.HostConfig.PidsLimit !== check.pids) {
    problems.push(`${name}'s process limit is ${c.HostConfig.PidsLimit || 'none'}; it should be ${check.pids}`);
  }
  const labels = c.Config.Labels ?? {};
  for (const [k, m] of Object.entries(check.labels ?? {})) {
    if (!textMatches(labels[k], m))
      problems.push(`${name}'s label ${k} is ${quote(labels[k])}; it should be ${describeMatch(m)}`);
  }
  if (check.logDriver && c.HostConfig.LogConfig.Type !== check.logDriver) {
    problems.push(`${name} logs with ${c.HostConfig.LogConfig.Type}; it should log with ${check.logDriver}`);
  }
  for (const [k, v] of Object.entries(check.logOptions ?? {})) {
    const got = c.HostConfig.LogConfig.Config?.[k];
    if (got !== v) problems.push(`${name}'s log option ${k} is ${quote(got)}; it should be "${v}"`);
  }
  if (check.minRestarts !== undefined && problems.length === 0) {
    const n = await restarts(p, c);
    if (n < check.minRestarts)
      problems.push(`${name} was restarted ${n} time${n === 1 ? '' : 's'}; it should be at least ${check.minRestarts}`);
  }
  return problems;
}

const mib = (bytes: number) => (bytes ? `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB` : 'none');

async function container(p: Probe, check: CheckOf<'container'>): Promise<Outcome> {
  if (check.name) {
    const c = await inspectContainer(p, check.name);
    if (!c) return no(`There is no container named ${check.name}.`);
    const problems = await containerProblems(p, check, c);
    return problems.length ? no(`${problems.join('; ')}.`) : ok(`${check.name} is ${stateText(c)}, as expected.`);
  }
  const image = check.image!;
  const all = await p.api<Array<{ Id: string; Image: string }>>(`/containers/json?all=1`);
  const fromImage = all.body.filter((c) => sameImageRef(c.Image, image));
  if (fromImage.length === 0) return no(`There is no container from image ${image}.`);
  let first: string[] | undefined;
  for (const summary of fromImage) {
    const c = await inspectContainer(p, summary.Id);
    if (!c) continue;
    const problems = await containerProblems(p, check, c);
    if (problems.length === 0) return ok(`${short(c)} from ${image} is ${stateText(c)}, as expected.`);
    first ??= problems;
  }
  return no(`${(first ?? [`no container from ${image} could be read`]).join('; ')}.`);
}

async function inspectImage(p: Probe, ref: string): Promise<ImageInfo | undefined> {
  const r = await p.api<ImageInfo>(`/images/${enc(ref)}/json`);
  return r.status === 200 ? r.body : undefined;
}

/** Which of `paths` exist in an image's filesystem: a created (never started) container's archive. */
async function pathsInImage(p: Probe, ref: string, paths: string[]): Promise<Map<string, boolean>> {
  const name = graderName();
  const created = await p.api<{ Id: string; message?: string }>(`/containers/create?name=${name}`, {
    method: 'POST',
    body: {
      Image: ref,
      Entrypoint: ['/dockyard-never-started'],
      Cmd: [],
      Labels: { 'org.dockyard.grader': '1' },
      NetworkDisabled: true,
    },
  });
  if (created.status !== 201)
    throw new PlatformFault(`could not open image ${ref}: ${created.body.message ?? created.status}`);
  try {
    const found = new Map<string, boolean>();
    for (const path of paths) {
      const r = await p.api(`/containers/${created.body.Id}/archive?path=${enc(path)}`, { method: 'HEAD' });
      found.set(path, r.status === 200);
    }
    return found;
  } finally {
    await p.api(`/containers/${created.body.Id}?force=1`, { method: 'DELETE' });
  }
}

async function image(p: Probe, check: CheckOf<'image'>): Promise<Outcome> {
  const img = await inspectImage(p, check.ref);
  if (!check.exists)
    return img ? no(`Image ${check.ref} still exists; it should be gone.`) : ok(`Image ${check.ref} is gone.`);
  if (!img) return no(`There is no image ${check.ref}.`);
  const problems: string[] = [];
  if (check.sameAs) {
    const other = await inspectImage(p, check.sameAs);
    if (!other) problems.push(`there is no image ${check.sameAs} to compare with`);
    else if (other.Id !== img.Id)
      problems.push(
        `${check.ref} and ${check.sameAs} are different images (${img.Id.slice(7, 19)} vs ${other.Id.slice(7, 19)})`,
      );
  }
  if (check.maxSizeBytes !== undefined && img.Size > check.maxSizeBytes) {
    problems.push(`${check.ref} is ${mb(img.Size)}; it should be under ${mb(check.maxSizeBytes)}`);
  }
  const labels = img.Config.Labels ?? {};
  for (const [k, m] of Object.entries(check.labels ?? {})) {
    if (!textMatches(labels[k], m))
      problems.push(`its label ${k} is ${quote(labels[k])}; it should be ${describeMatch(m)}`);
  }
  if (check.user !== undefined && !textMatches(img.Config.User, check.user)) {
    problems.push(
      `its USER is ${img.Config.User ? quote(img.Config.User) : 'not set (root)'}; it should be ${describeMatch(check.user)}`,
    );
  }
  if (check.nonRoot && !isNonRoot(img.Config.User)) problems.push('it runs as root; set a USER that is not root');
  for (const port of check.exposedPorts ?? []) {
    if (!(`${port}/tcp` in (img.Config.ExposedPorts ?? {}))) problems.push(`it does not EXPOSE ${port}`);
  }
  const test = img.Config.Healthcheck?.Test ?? [];
  if (check.healthcheck !== undefined && check.healthcheck !== (test.length > 0 && test[0] !== 'NONE')) {
    problems.push(check.healthcheck ? 'it has no HEALTHCHECK' : 'it has a HEALTHCHECK; it should not');
  }
  const layers = img.RootFS.Layers?.length ?? 0;
  if (check.maxLayers !== undefined && layers > check.maxLayers)
    problems.push(`it has ${layers} layers; it should have at most ${check.maxLayers}`);
  const paths = [...(check.containsPaths ?? []), ...(check.lacksPaths ?? [])];
  if (paths.length && problems.length === 0) {
    const found = await pathsInImage(p, check.ref, paths);
    for (const path of check.containsPaths ?? []) if (!found.get(path)) problems.push(`${path} is missing from it`);
    for (const path of check.lacksPaths ?? [])
      if (found.get(path)) problems.push(`${path} is still in it; it should not be`);
  }
  return problems.length ? no(`${problems.join('; ')}.`) : ok(`Image ${check.ref} is as expected (${mb(img.Size)}).`);
}

const mb = (bytes: number) => (bytes < 1e6 ? `${Math.round(bytes / 1e3)} kB` : `${Math.round(bytes / 1e5) / 10} MB`);

async function network(p: Probe, check: CheckOf<'network'>): Promise<Outcome> {
  const r = await p.api<{ Driver: string; Containers: Record<string, { Name: string }> | null }>(
    `/networks/${enc(check.name)}`,
  );
  if (r.status !== 200) return no(`There is no network named ${check.name}.`);
  const problems: string[] = [];
  if (check.driver && r.body.Driver !== check.driver)
    problems.push(`${check.name} uses the ${r.body.Driver} driver; it should use ${check.driver}`);
  const attached = Object.values(r.body.Containers ?? {}).map((c) => c.Name);
  const missing = (check.containers ?? []).filter((c) => !attached.includes(c));
  if (missing.length) {
    problems.push(
      `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not attached to ${check.name} (attached: ${attached.join(', ') || 'none'})`,
    );
  }
  return problems.length ? no(`${problems.join('; ')}.`) : ok(`Network ${check.name} is as expected.`);
}

/**
 * From inside the `from` container's network namespace (nsenter, in the sandbox): its DNS (the
 * inner engine's resolver at 127.0.0.11 there) and its routes, whatever tools its image lacks.
 */
async function reach(p: Probe, check: CheckOf<'reach'>): Promise<Outcome> {
  const from = await inspectContainer(p, check.from);
  if (!from) return no(`There is no container named ${check.from}.`);
  if (!from.State.Running) return no(`${check.from} is ${stateText(from)}; it must be running to reach ${check.to}.`);
  const inNs = `/usr/bin/nsenter -t ${from.State.Pid} -n`;
  const script =
    `ip=$(${inNs} /usr/bin/getent hosts ${q(check.to)} | awk '{print $1; exit}'); [ -n "$ip" ] || exit 3; ` +
    `${inNs} /usr/bin/timeout 3 /bin/bash -c "exec 3<>/dev/tcp/$ip/${check.port}" 2>/dev/null || exit 4`;
  const r = await p.sh(script, 10_000);
  if (r.exitCode === 0) return ok(`${check.from} resolves ${check.to} and reaches it on port ${check.port}.`);
  if (r.exitCode === 3)
    return no(`${check.from} cannot resolve the name ${check.to}: are both on the same user-defined network?`);
  if (r.exitCode === 4) return no(`${check.from} resolves ${check.to}, but nothing answers on port ${check.port}.`);
  throw new PlatformFault(`the reachability probe failed: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
}

async function volume(p: Probe, check: CheckOf<'volume'>): Promise<Outcome> {
  const r = await p.api<{ Driver: string; Mountpoint: string }>(`/volumes/${enc(check.name)}`);
  if (r.status !== 200) return no(`There is no volume named ${check.name}.`);
  if (check.mountedBy) {
    const c = await inspectContainer(p, check.mountedBy);
    if (!c) return no(`There is no container named ${check.mountedBy}.`);
    if (!c.Mounts.some((m) => m.Type === 'volume' && m.Name === check.name))
      return no(`${check.mountedBy} does not mount volume ${check.name}.`);
  }
  if (check.containsPaths?.length) {
    // A local volume is a folder of the sandbox's engine: look there, no helper container needed.
    const root = r.body.Driver === 'local' && r.body.Mountpoint ? r.body.Mountpoint : undefined;
    const tests = (dir: string) =>
      check.containsPaths!.map((path) => `[ -e ${q(`${dir}/${path}`)} ] || echo ${q(path)}`).join('; ');
    const out = root
      ? await p.sh(`[ -d ${q(root)} ] || exit 9; ${tests(root)}`)
      : await p.sh(
          `/usr/bin/docker run --rm --name ${graderName()} -v ${q(`${check.name}:/v:ro`)} busybox sh -c ${q(tests('/v'))}`,
          15_000,
        );
    if (out.exitCode !== 0) throw new PlatformFault(`could not look into volume ${check.name}: ${out.stderr.trim()}`);
    const missing = out.stdout.trim().split('\n').filter(Boolean);
    if (missing.length) return no(`Volume ${check.name} has no ${missing.join(', ')}.`);
  }
  return ok(`Volume ${check.name} is as expected.`);
}

async function http(p: Probe, check: CheckOf<'http'>): Promise<Outcome> {
  const url = `http://localhost:${check.port}${check.path}`;
  const r = await p.sh(`/usr/bin/curl -s -m 3 -o - -w '\\n%{http_code}' ${q(url)} | tail -c 65536`, 8000);
  const cut = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(cut + 1));
  const body = r.stdout.slice(0, Math.max(0, cut));
  if (!status) return no(`Nothing answers on port ${check.port}: is a container publishing it (docker ps)?`);
  if (status !== check.status) return no(`${url} answered ${status}; it should answer ${check.status}.`);
  if (check.body && !textMatches(typeof check.body === 'string' ? body.trim() : body, check.body)) {
    return no(
      `${url} answered ${status}, but its body is ${quote(body.trim())}; it should be ${describeMatch(check.body)}.`,
    );
  }
  return ok(`${url} answered ${status}, as expected.`);
}

async function file(p: Probe, check: CheckOf<'file'>): Promise<Outcome> {
  const where = check.container ? ` in ${check.container}` : '';
  let content: string | undefined;
  if (check.container) {
    const c = await inspectContainer(p, check.container);
    if (!c) return no(`There is no container named ${check.container}.`);
    const path = posix.resolve('/', check.path);
    const r = await p.sh(
      `/usr/bin/docker cp ${q(`${c.Id}:${path}`)} - 2>/dev/null | tar -xOf - 2>/dev/null; exit \${PIPESTATUS[0]}`,
    );
    content = r.exitCode === 0 ? r.stdout : undefined;
  } else {
    content = await readWorkFile(p, check.path);
  }
  if (!check.exists)
    return content === undefined
      ? ok(`${check.path}${where} is gone.`)
      : no(`${check.path}${where} still exists; it should not.`);
  if (content === undefined) return no(`There is no file ${check.path}${where}.`);
  if (check.contains !== undefined && !content.includes(check.contains))
    return no(`${check.path}${where} does not contain "${check.contains}".`);
  if (check.matches !== undefined && !new RegExp(check.matches, 'm').test(content))
    return no(`${check.path}${where} does not match /${check.matches}/.`);
  return ok(`${check.path}${where} is as expected.`);
}

async function readWorkFile(p: Probe, rel: string): Promise<string | undefined> {
  const path = posix.resolve(WORK_DIR, rel);
  const r = await p.sh(`[ -f ${q(path)} ] || exit 3; head -c 1048576 -- ${q(path)}`);
  if (r.exitCode === 3) return undefined;
  if (r.exitCode !== 0) throw new PlatformFault(`could not read ${path}: ${r.stderr.trim()}`);
  return r.stdout;
}

async function dockerfile(p: Probe, check: CheckOf<'dockerfile'>): Promise<Outcome> {
  const text = await readWorkFile(p, check.path);
  if (text === undefined) return no(`There is no ${check.path} in ~/work.`);
  const df = parseDockerfile(text);
  const problems: string[] = [];
  const n = df.stages.length;
  if (n === 0) return no(`${check.path} has no FROM line.`);
  if (check.stages?.min !== undefined && n < check.stages.min)
    problems.push(`it has ${n} stage${n === 1 ? '' : 's'}; it needs at least ${check.stages.min}`);
  if (check.stages?.max !== undefined && n > check.stages.max)
    problems.push(`it has ${n} stages; it should have at most ${check.stages.max}`);
  if (check.baseImages) {
    const bases = df.stages.map((s) => s.baseImage);
    if (bases.join(',') !== check.baseImages.join(','))
      problems.push(`its stages start from ${bases.join(', ')}; they should start from ${check.baseImages.join(', ')}`);
  }
  if (check.order) {
    let last = -1;
    for (const prefix of check.order) {
      const [kw = '', ...rest] = prefix.split(/\s+/);
      const args = rest.join(' ');
      const at = df.instructions.findIndex(
        (i, idx) => idx > last && i.keyword === kw.toUpperCase() && `${i.flags} ${i.args}`.trim().startsWith(args),
      );
      if (at < 0) {
        problems.push(
          `"${prefix}" should come after ${last < 0 ? 'the start' : `line ${df.instructions[last]!.line}`}, but it does not`,
        );
        break;
      }
      last = at;
    }
  }
  if (check.nonRootUser && !isNonRoot(finalUser(df)))
    problems.push('the final stage runs as root: add a USER that is not root');
  if (check.healthcheck !== undefined) {
    // The last HEALTHCHECK of the final stage or of a stage it is built on counts; NONE turns it off.
    const last = finalInstructions(df).findLast((i) => i.keyword === 'HEALTHCHECK');
    const has = last !== undefined && !/^NONE\b/i.test(last.args.trim());
    if (has !== check.healthcheck)
      problems.push(
        check.healthcheck ? 'the final stage has no HEALTHCHECK' : 'the final stage has a HEALTHCHECK; it should not',
      );
  }
  for (const rule of check.noFindings ?? []) problems.push(...lint(df, rule));
  return problems.length ? no(`In ${check.path}: ${problems.join('; ')}.`) : ok(`${check.path} is as expected.`);
}

/**
 * Compose v2 itself, by absolute path: `docker compose` would look in ~/.docker/cli-plugins first,
 * where a learner's own plugin could answer.
 */
const COMPOSE = '/usr/libexec/docker/cli-plugins/docker-compose';

async function compose(p: Probe, check: CheckOf<'compose'>): Promise<Outcome> {
  const text = await readWorkFile(p, check.file);
  if (text === undefined) return no(`There is no ${check.file} in ~/work.`);
  const problems: string[] = [];
  for (const secret of check.absent ?? [])
    if (text.includes(secret)) problems.push(`${check.file} still contains "${secret}"; keep it in .env`);
  // Compose resolves the file as `docker compose up` would (.env, `name:`): its answer names the project.
  const path = posix.resolve(WORK_DIR, check.file);
  const r = await p.sh(`cd ${q(posix.dirname(path))} && ${COMPOSE} -f ${q(path)} config --format json`, 15_000);
  const config = r.exitCode === 0 ? parseJson<{ name?: string }>(r.stdout) : undefined;
  if (check.valid && !config)
    problems.push(`Compose rejects ${check.file}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  const project =
    check.project ??
    config?.name ??
    posix
      .basename(posix.dirname(path))
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '');
  for (const s of check.services ?? []) {
    const filters = enc(
      JSON.stringify({ label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${s.name}`] }),
    );
    const list = await p.api<Array<{ Id: string; State: string }>>(`/containers/json?all=1&filters=${filters}`);
    const running = list.body.filter((c) => c.State === 'running');
    if (list.body.length === 0) {
      problems.push(`service ${s.name} of project ${project} has no container: run docker compose up`);
      continue;
    }
    if (s.replicas !== undefined && running.length !== s.replicas)
      problems.push(
        `service ${s.name} has ${running.length} running container${running.length === 1 ? '' : 's'}; it should have ${s.replicas}`,
      );
    if (running.length === 0) problems.push(`service ${s.name} is not running`);
    else if (s.state === 'healthy') {
      for (const c of running) {
        const info = await inspectContainer(p, c.Id);
        if (info?.State.Health?.Status !== 'healthy') {
          problems.push(`service ${s.name} is ${info ? stateText(info) : 'gone'}; it should be healthy`);
          break;
        }
      }
    }
  }
  return problems.length ? no(`${problems.join('; ')}.`) : ok(`Project ${project} is as expected.`);
}

async function registry(p: Probe, check: CheckOf<'registry'>): Promise<Outcome> {
  const base = `http://${check.registry}/v2`;
  const r = await p.sh(`/usr/bin/curl -s -m 3 ${q(`${base}/_catalog`)}`);
  if (r.exitCode !== 0)
    return no(`No registry answers at ${check.registry}: is its container running and publishing the port?`);
  const catalog = parseJson<{ repositories?: string[] }>(r.stdout);
  if (!catalog) return no(`${check.registry} does not answer like a registry.`);
  const repos = catalog.repositories ?? [];
  if (!repos.includes(check.repository))
    return no(
      `The registry at ${check.registry} has ${repos.length ? repos.join(', ') : 'no repositories'}; it should have ${check.repository}.`,
    );
  if (check.tag) {
    const t = await p.sh(`/usr/bin/curl -s -m 3 ${q(`${base}/${check.repository}/tags/list`)}`);
    const tags = parseJson<{ tags?: string[] }>(t.stdout)?.tags ?? [];
    if (!tags.includes(check.tag))
      return no(
        `${check.repository} in ${check.registry} has tags ${tags.join(', ') || 'none'}; it should have ${check.tag}.`,
      );
  }
  return ok(`${check.registry} has ${check.repository}${check.tag ? `:${check.tag}` : ''}.`);
}

async function command(p: Probe, check: CheckOf<'command'>): Promise<Outcome> {
  const r = await p.sh(check.run, 10_000);
  if (r.exitCode !== check.exitCode)
    return no(`\`${check.run}\` exited with ${r.exitCode}; it should exit with ${check.exitCode}.`);
  const out = r.stdout.trim();
  if (check.output && !textMatches(out, check.output))
    return no(`\`${check.run}\` printed ${quote(out)}; it should print ${describeMatch(check.output)}.`);
  return ok(`\`${check.run}\` gave what was expected.`);
}

type Evaluators = { [K in CheckKind]: (p: Probe, check: CheckOf<K>) => Promise<Outcome> };

export const evaluators: Evaluators = {
  container,
  image,
  network,
  reach,
  volume,
  http,
  file,
  dockerfile,
  compose,
  registry,
  command,
};

export function evaluate(p: Probe, check: Check): Promise<Outcome> {
  return (evaluators[check.kind] as (p: Probe, c: Check) => Promise<Outcome>)(p, check);
}
