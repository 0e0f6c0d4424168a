// The `registry` check: a repository (and tag) in a registry's catalog.
import type { CheckOf } from '@dockyard/content';
import type { Probe } from '../probe.ts';
import { no, ok, parseJson, q, type Outcome } from './outcome.ts';

export async function registry(p: Probe, check: CheckOf<'registry'>): Promise<Outcome> {
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
