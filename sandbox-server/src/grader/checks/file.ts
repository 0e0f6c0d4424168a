// The `file` check: a file in ~/work, at an absolute path, or inside a container.
import { posix } from 'node:path';
import type { CheckOf } from '@dockyard/content';
import type { Probe } from '../probe.ts';
import { inspectContainer, readWorkFile } from './engine-state.ts';
import { no, ok, q, type Outcome } from './outcome.ts';

export async function file(p: Probe, check: CheckOf<'file'>): Promise<Outcome> {
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
