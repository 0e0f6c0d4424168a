// The `image` check: an image's identity, size, settings and what its filesystem holds.
import type { CheckOf } from '@dockyard/content';
import { isNonRoot } from '../dockerfile.ts';
import { PlatformFault, type Probe } from '../probe.ts';
import { inspectImage } from './engine-state.ts';
import { describeMatch, enc, graderName, mb, no, ok, quote, textMatches, type Outcome } from './outcome.ts';

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

export async function image(p: Probe, check: CheckOf<'image'>): Promise<Outcome> {
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
    problems.push(`it is ${mb(img.Size)}; it should be under ${mb(check.maxSizeBytes)}`);
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
  return problems.length
    ? no(`Image ${check.ref}: ${problems.join('; ')}.`)
    : ok(`Image ${check.ref} is as expected (${mb(img.Size)}).`);
}
