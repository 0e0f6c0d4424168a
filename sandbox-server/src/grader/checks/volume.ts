// The `volume` check: a volume exists, is mounted by a container, and holds given paths.
import type { CheckOf } from '@dockyard/content';
import { PlatformFault, type Probe } from '../probe.ts';
import { inspectContainer } from './engine-state.ts';
import { enc, graderName, no, ok, q, type Outcome } from './outcome.ts';

export async function volume(p: Probe, check: CheckOf<'volume'>): Promise<Outcome> {
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
