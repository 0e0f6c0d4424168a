// Under gVisor a sandbox differs from runc's in storage, tmpfs flags and the mirror's name only.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closedAncestor, isGvisor, openOwnFolders, withGvisor } from './gvisor.ts';
import { sandboxCreateOptions } from './sandbox-options.ts';

const GiB = 2 ** 30;
const spec = { id: 'abc123', limits: { memoryBytes: 2 * GiB, cpus: 1, pids: 512, storageBytes: 4 * GiB } };
const binds = ['docker', 'home', 'tmp', 'log'].map((f) => `/d/abc123/${f}:/${f === 'docker' ? 'var/lib/docker' : f}`);

describe('withGvisor', () => {
  const runc = sandboxCreateOptions(spec, { diskBinds: binds, runtime: 'runsc' });
  const o = withGvisor(runc, spec.limits.memoryBytes, spec.limits.storageBytes, { mirrorIp: '172.18.0.2' });

  it("keeps every security setting and limit of runc's options", () => {
    const { Binds: _b, Tmpfs: _t, ExtraHosts: _e, ...rest } = o.HostConfig!;
    const { Binds: _rb, Tmpfs: _rt, ...runcRest } = runc.HostConfig!;
    expect(rest).toEqual(runcRest);
    expect(o.Env).toEqual([...runc.Env!, 'DOCKYARD_RUNTIME=gvisor']);
  });

  it("puts the engine's storage on an exec tmpfs of at most half the memory; the rest stays on the disk", () => {
    expect(o.HostConfig!.Binds).toEqual(binds.filter((b) => !b.endsWith(':/var/lib/docker')));
    expect(o.HostConfig!.Tmpfs!['/var/lib/docker']).toBe(`size=${GiB},mode=0711,exec`);
    for (const opts of Object.values(o.HostConfig!.Tmpfs!)) expect(opts).toMatch(/,exec$/);
  });

  it('names the mirror by address', () => {
    expect(o.HostConfig!.ExtraHosts).toEqual(['mirror:172.18.0.2']);
  });
});

describe('isGvisor', () => {
  it('knows runsc by name or by the binary registered for the runtime', () => {
    expect(isGvisor('runsc')).toBe(true);
    expect(isGvisor('gvisor', '/usr/local/bin/runsc')).toBe(true);
    expect(isGvisor('runc', '/usr/bin/runc')).toBe(false);
    expect(isGvisor('crun', '/usr/bin/crun')).toBe(false);
  });
});

describe('openOwnFolders', () => {
  it('lets others through the disks folder and the data folder, and nothing above them', () => {
    const top = mkdtempSync(join(tmpdir(), 'dockyard-open-'));
    try {
      const above = join(top, 'home');
      const disks = join(above, 'data', 'disks');
      mkdirSync(disks, { recursive: true, mode: 0o700 });
      const mode = (d: string) => (statSync(d).mode & 0o777).toString(8);
      expect(closedAncestor(disks)).toBe(disks);
      openOwnFolders(disks);
      expect([mode(disks), mode(join(above, 'data')), mode(above)]).toEqual(['711', '711', '700']);
      // The folder above is the host owner's: the start-up check names it.
      expect(closedAncestor(disks)).toBe(above);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });
});
