// The `compose` check: a Compose v2 project from a file in ~/work: valid, free of secrets, its services up.
import { posix } from 'node:path';
import type { CheckOf } from '@dockyard/content';
import { WORK_DIR, type Probe } from '../probe.ts';
import { inspectContainer, readWorkFile, stateText } from './engine-state.ts';
import { enc, no, ok, parseJson, q, type Outcome } from './outcome.ts';

/**
 * Compose v2 itself, by absolute path: `docker compose` would look in ~/.docker/cli-plugins first,
 * where a learner's own plugin could answer.
 */
const COMPOSE = '/usr/libexec/docker/cli-plugins/docker-compose';

/** What `docker compose config --format json` says, as far as the check reads it. */
interface ComposeConfig {
  name?: string;
  services?: Record<string, { depends_on?: Record<string, { condition?: string }> }>;
}

export async function compose(p: Probe, check: CheckOf<'compose'>): Promise<Outcome> {
  const text = await readWorkFile(p, check.file);
  if (text === undefined) return no(`There is no ${check.file} in ~/work.`);
  const problems: string[] = [];
  for (const secret of check.absent ?? [])
    if (text.includes(secret)) problems.push(`${check.file} still contains "${secret}"; keep it in .env`);
  // Compose resolves the file as `docker compose up` would (.env, `name:`): its answer names the project.
  const path = posix.resolve(WORK_DIR, check.file);
  const r = await p.sh(`cd ${q(posix.dirname(path))} && ${COMPOSE} -f ${q(path)} config --format json`, 15_000);
  const config = r.exitCode === 0 ? parseJson<ComposeConfig>(r.stdout) : undefined;
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
    for (const want of s.dependsOn ?? []) {
      if (!config) {
        problems.push(`Compose cannot read ${check.file}, so ${s.name}'s depends_on is unknown`);
        continue;
      }
      const got = config.services?.[s.name]?.depends_on?.[want.service]?.condition;
      if (got !== want.condition)
        problems.push(
          got
            ? `${s.name} waits for ${want.service} with condition ${got}; it should be ${want.condition}`
            : `${s.name} does not depend on ${want.service}; it should, with condition ${want.condition}`,
        );
    }
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
  return problems.length
    ? no(`In project ${project}: ${problems.join('; ')}.`)
    : ok(`Project ${project} is as expected.`);
}
