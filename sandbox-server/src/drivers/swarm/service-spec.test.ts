// The sandbox as a service carries each container setting the docker driver gives it.
import { describe, expect, it } from 'vitest';
import { sandboxCreateOptions } from '../docker/sandbox-options.ts';
import { DISK_MOUNTS } from '../docker/sandbox-disk.ts';
import { DISK_DRIVER, KEPT_BY_THE_NODE, SANDBOX_HOST_LABEL, sandboxServiceSpec } from './service-spec.ts';

const MiB = 2 ** 20;
const spec = {
  id: 'abc',
  limits: { memoryBytes: 512 * MiB, cpus: 1.5, pids: 300, storageBytes: 1024 * MiB },
  labels: { 'org.dockyard.session': 's1' },
};
const views = ['/var/lib/lxcfs/proc/meminfo:/proc/meminfo:ro'];

describe('sandboxServiceSpec', () => {
  const service = sandboxServiceSpec(spec, { viewBinds: views });
  const task = service.TaskTemplate as unknown as {
    ContainerSpec: Record<string, unknown> & { Mounts: Record<string, unknown>[] };
    Resources: { Limits: Record<string, number>; Reservations: Record<string, number> };
    RestartPolicy: { Condition: string };
    Placement: { Constraints: string[] };
    Networks: { Target: string }[];
  };
  const container = sandboxCreateOptions(spec, { diskBinds: [], viewBinds: views, runtime: 'runc' });

  it('is one task that never restarts, only on sandbox hosts, with no virtual IP', () => {
    expect(service.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(task.RestartPolicy.Condition).toBe('none');
    expect(task.Placement.Constraints).toEqual([`node.labels.${SANDBOX_HOST_LABEL} == true`]);
    expect(service.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(service.Name).toBe(container.name);
  });

  it("carries the container's limits, and reserves its memory so Swarm places by it", () => {
    expect(task.Resources.Limits).toEqual({ MemoryBytes: 512 * MiB, NanoCPUs: 1.5e9, Pids: 300 });
    expect(task.Resources.Reservations).toEqual({ MemoryBytes: 512 * MiB });
  });

  it('carries capabilities, ulimits, the read-only root, labels, environment and the network', () => {
    const c = task.ContainerSpec;
    expect(c.CapabilityAdd).toEqual(container.HostConfig!.CapAdd);
    expect(c.Ulimits).toEqual(container.HostConfig!.Ulimits);
    expect(c.ReadOnly).toBe(true);
    expect(c.Labels).toEqual(container.Labels);
    expect(service.Labels).toEqual(container.Labels);
    expect(c.Env).toEqual(container.Env);
    expect(c.Hostname).toBe('sandbox');
    expect(task.Networks).toEqual([{ Target: container.HostConfig!.NetworkMode }]);
  });

  it('mounts the disk as four volumes of the disk plugin, the views as binds, the tmpfs with their sizes', () => {
    const volumes = task.ContainerSpec.Mounts.filter((m) => m.Type === 'volume');
    expect(volumes.map((m) => m.Target)).toEqual(Object.values(DISK_MOUNTS));
    expect(volumes[0]).toMatchObject({
      Source: 'dockyard-abc-docker',
      VolumeOptions: {
        NoCopy: true,
        DriverConfig: { Name: DISK_DRIVER, Options: { sandbox: 'abc', folder: 'docker', size: String(1024 * MiB) } },
      },
    });
    expect(task.ContainerSpec.Mounts.filter((m) => m.Type === 'bind')).toEqual([
      { Type: 'bind', Source: '/var/lib/lxcfs/proc/meminfo', Target: '/proc/meminfo', ReadOnly: true },
    ]);
    expect(task.ContainerSpec.Mounts.find((m) => m.Target === '/run')).toMatchObject({
      Type: 'tmpfs',
      TmpfsOptions: { SizeBytes: 64 * MiB, Mode: 0o755 },
    });
  });

  it('leaves to the node only what it names, each with a reason', () => {
    const kept = Object.keys(container.HostConfig!).filter((k) => k in KEPT_BY_THE_NODE);
    expect(kept.sort()).toEqual(['LogConfig', 'MemorySwap', 'Privileged', 'RestartPolicy', 'Runtime', 'SecurityOpt']);
    for (const why of Object.values(KEPT_BY_THE_NODE)) expect(why.length).toBeGreaterThan(10);
  });
});
