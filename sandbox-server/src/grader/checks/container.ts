// The `container` check: a container by name, or any container from an image, in the expected state and settings.
import { posix } from 'node:path';
import type { CheckOf } from '@dockyard/content';
import { isNonRoot } from '../dockerfile.ts';
import { WORK_DIR, type Probe } from '../probe.ts';
import { inspectContainer, short, stateText, type ContainerInfo } from './engine-state.ts';
import { describeMatch, enc, mib, failed, no, ok, quote, sameImageRef, textMatches, type Outcome } from './outcome.ts';

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

export async function container(p: Probe, check: CheckOf<'container'>): Promise<Outcome> {
  if (check.name) {
    const c = await inspectContainer(p, check.name);
    if (!c) return no(`There is no container named ${check.name}.`);
    const problems = await containerProblems(p, check, c);
    return problems.length ? failed(problems) : ok(`${check.name} is ${stateText(c)}, as expected.`);
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
  return failed(first ?? [`No container from ${image} could be read`]);
}
