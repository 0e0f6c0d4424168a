// The `network` check: a network's driver and the containers attached to it.
import type { CheckOf } from '@dockyard/content';
import type { Probe } from '../probe.ts';
import { enc, failed, no, ok, type Outcome } from './outcome.ts';

export async function network(p: Probe, check: CheckOf<'network'>): Promise<Outcome> {
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
  return problems.length ? failed(problems) : ok(`Network ${check.name} is as expected.`);
}
