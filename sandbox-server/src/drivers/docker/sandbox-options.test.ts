// Every sandbox gets the secure defaults: never privileged, hard limits, labels.
import { describe, expect, it } from 'vitest';
import { sandboxCreateOptions } from './sandbox-options.ts';

const spec = {
  id: 'abc123',
  limits: { memoryBytes: 2 ** 30, cpus: 1.5, pids: 512, storageBytes: 2 * 2 ** 30 },
  labels: { 'org.dockyard.session': 's1' },
};

describe('sandboxCreateOptions', () => {
  const o = sandboxCreateOptions(spec, { diskBinds: ['/d/abc123/docker:/var/lib/docker'], runtime: 'crun' });
  const h = o.HostConfig!;

  it('is never privileged and adds only the capabilities the inner engine needs', () => {
    expect(h.Privileged).toBe(false);
    expect(h.CapAdd).toEqual(['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE']);
    expect(h.Binds).toEqual(['/d/abc123/docker:/var/lib/docker']);
    expect(h.Devices ?? []).toEqual([]);
  });

  it("applies Docker's default seccomp profile plus only the listed additions", () => {
    const opt = h.SecurityOpt!.find((o: string) => o.startsWith('seccomp='))!;
    expect(opt).toBeDefined();
    const profile = JSON.parse(opt.slice('seccomp='.length)) as {
      defaultAction: string;
      syscalls: Array<{ names: string[]; action: string }>;
    };
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    const [added, refused] = profile.syscalls.slice(-2);
    expect(added).toMatchObject({ action: 'SCMP_ACT_ALLOW', names: ['pivot_root'] });
    // Facilities whose quotas every sandbox shares fail with ENOSYS, and no other rule allows them.
    expect(refused).toMatchObject({ action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    expect(refused!.names.sort()).toEqual(
      ['add_key', 'fanotify_init', 'io_uring_enter', 'io_uring_register', 'io_uring_setup', 'keyctl', 'mq_open']
        .concat(['perf_event_open', 'request_key'])
        .sort(),
    );
    const elsewhere = profile.syscalls.slice(0, -1).flatMap((r) => r.names);
    expect(elsewhere.filter((n) => refused!.names.includes(n))).toEqual([]);
    // userfaultfd is in no rule at all; kexec_load is only allowed to containers with CAP_SYS_BOOT.
    expect(profile.syscalls.flatMap((r) => r.names)).not.toContain('userfaultfd');
    expect(h.CapAdd).not.toContain('SYS_BOOT');
    expect(h.SecurityOpt).not.toContain('seccomp=unconfined');
  });

  it('sets memory equal to memory+swap, CPUs and pids; keeps the in-memory scratch space small', () => {
    expect(h.Memory).toBe(2 ** 30);
    expect(h.MemorySwap).toBe(h.Memory);
    expect(h.NanoCpus).toBe(1_500_000_000);
    expect(h.PidsLimit).toBe(512);
    expect(h.Ulimits).toEqual([{ Name: 'sigpending', Soft: 128, Hard: 128 }]);
    expect(Object.keys(h.Tmpfs ?? {}).sort()).toEqual(['/etc/docker', '/run']);
    expect(h.LogConfig?.Config).toMatchObject({ 'max-size': '1m' });
    expect(h.DnsOptions).toEqual(['timeout:1', 'attempts:1']);
  });

  it('keeps the root filesystem read-only and passes the runtime through', () => {
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.Runtime).toBe('crun');
  });

  it('labels the sandbox so the reaper can find it, keeping the caller labels', () => {
    expect(o.Labels).toMatchObject({
      'org.dockyard.sandbox': 'abc123',
      'org.dockyard.owner': 'dockyard',
      'org.dockyard.session': 's1',
    });
    expect(o.name).toBe('dockyard-sbx-abc123');
  });
});
