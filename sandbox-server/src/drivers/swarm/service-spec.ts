// A sandbox as a Swarm service: the docker driver's container settings (sandbox-options.ts, the one
// place they are decided) carried over into a service spec, setting by setting. What the service
// API of Engine 20.10 (API 1.41) cannot express is kept by the node's engine, which a sandbox host
// configures for sandboxes alone (docs/scale.md, "What a sandbox host keeps"). Any other setting is
// refused here, so a new one added to sandbox-options.ts cannot go missing on Swarm unnoticed.
import type Docker from 'dockerode';
import type { SandboxSpec } from '../driver.ts';
import { DISK_MOUNTS, type DiskFolder } from '../docker/sandbox-disk.ts';
import { containerName, SANDBOX_LABEL, sandboxCreateOptions } from '../docker/sandbox-options.ts';
import { OWNER_LABEL } from '../../../../images/platform.ts';

/** The volume plugin that makes each sandbox's disk on the node Swarm chose (host-agent/disk-plugin.ts). */
export const DISK_DRIVER = 'dockyard-disk';

/** Node label a sandbox host carries; only nodes with it get sandboxes. */
export const SANDBOX_HOST_LABEL = 'org.dockyard.sandboxes';

/**
 * HostConfig settings a sandbox host's engine keeps for every container it runs (daemon.json), and
 * why the service does not carry them.
 */
export const KEPT_BY_THE_NODE: Readonly<Record<string, string>> = {
  SecurityOpt: 'seccomp: the sandbox profile is the node engine\'s "seccomp-profile" (per service from API 1.44)',
  MemorySwap: 'memory+swap = memory: sandbox hosts have no swap (per service from API 1.52)',
  Runtime: 'the node engine\'s "default-runtime" (not settable per service)',
  LogConfig: 'the node engine\'s "log-opts" (a service\'s log driver options would do too)',
  Privileged: 'false, and a service cannot ask otherwise',
  RestartPolicy: "no: the service's restart condition is none",
};

/** HostConfig settings the service carries, each translated below. */
const CARRIED = [
  'CapAdd',
  'Memory',
  'NanoCpus',
  'PidsLimit',
  'Ulimits',
  'ReadonlyRootfs',
  'Binds',
  'Tmpfs',
  'NetworkMode',
  'DnsOptions',
  'Init',
] as const;

export interface ServicePlacement {
  /** Read-only binds of lxcfs's views (resource-views.ts): every sandbox host runs lxcfs at the same place. */
  viewBinds: string[];
  image?: string;
  /** Placement constraints beyond the sandbox host label (for example a runtime's label). */
  constraints?: string[];
}

/** `size=64m,mode=0755` as Swarm's tmpfs options. */
function tmpfsOptions(options: string): { SizeBytes: number; Mode: number } {
  // Docker's defaults: no size limit (0), mode 1777.
  const out = { SizeBytes: 0, Mode: 0o1777 };
  for (const part of options.split(',')) {
    const [key, value = ''] = part.split('=');
    if (key === 'mode') out.Mode = parseInt(value, 8);
    else if (key === 'size') {
      const m = /^(\d+)([kmg]?)$/i.exec(value);
      if (!m) throw new Error(`tmpfs size "${value}" is not one Swarm takes`);
      out.SizeBytes = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
    } else throw new Error(`tmpfs option "${part}" is not one Swarm takes`);
  }
  return out;
}

/** The four volumes of a sandbox's disk, one per folder, all on the one disk the plugin makes. */
export const diskVolumeName = (sandboxId: string, folder: DiskFolder) => `dockyard-${sandboxId}-${folder}`;

/** The service spec of a sandbox: the container settings of sandbox-options.ts, as a one-task service. */
export function sandboxServiceSpec(spec: SandboxSpec, placement: ServicePlacement): Docker.ServiceSpec {
  const create = sandboxCreateOptions(spec, {
    diskBinds: [],
    viewBinds: placement.viewBinds,
    runtime: 'runc',
    ...(placement.image ? { image: placement.image } : {}),
  });
  const host = create.HostConfig ?? {};
  for (const key of Object.keys(host)) {
    if (!(key in KEPT_BY_THE_NODE) && !(CARRIED as readonly string[]).includes(key))
      throw new Error(`The sandbox setting HostConfig.${key} has no Swarm counterpart here (swarm/service-spec.ts)`);
  }
  const disk: Docker.MountSettings[] = Object.entries(DISK_MOUNTS).map(([folder, target]) => ({
    Type: 'volume',
    Source: diskVolumeName(spec.id, folder as DiskFolder),
    Target: target,
    VolumeOptions: {
      NoCopy: true,
      Labels: { [OWNER_LABEL]: 'dockyard', [SANDBOX_LABEL]: spec.id },
      DriverConfig: {
        Name: DISK_DRIVER,
        Options: { sandbox: spec.id, folder, size: String(spec.limits.storageBytes) },
      },
    },
  }));
  const binds: Docker.MountSettings[] = (host.Binds ?? []).map((b) => {
    const [source, target, mode] = b.split(':');
    return { Type: 'bind', Source: source!, Target: target!, ReadOnly: mode === 'ro' };
  });
  const tmpfs: Docker.MountSettings[] = Object.entries(host.Tmpfs ?? {}).map(([target, options]) => ({
    Type: 'tmpfs',
    Source: '',
    Target: target,
    TmpfsOptions: tmpfsOptions(options),
  }));
  const labels = create.Labels ?? {};
  return {
    Name: containerName(spec.id),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: create.Image!,
        Hostname: create.Hostname!,
        Env: create.Env!,
        Labels: labels,
        CapabilityAdd: host.CapAdd!,
        Ulimits: host.Ulimits!,
        ReadOnly: host.ReadonlyRootfs!,
        Init: host.Init!,
        Mounts: [...disk, ...binds, ...tmpfs],
        DNSConfig: { Options: host.DnsOptions! },
      },
      Resources: {
        Limits: { MemoryBytes: host.Memory!, NanoCPUs: host.NanoCpus!, Pids: host.PidsLimit! },
        // Swarm places by what is reserved: a sandbox reserves all of its memory, so a node is full
        // when its sandboxes' limits add up to its memory, and Swarm then places none there.
        Reservations: { MemoryBytes: host.Memory! },
      } as Docker.ResourceRequirements,
      // A lost sandbox must not come back empty somewhere else.
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: [`node.labels.${SANDBOX_HOST_LABEL} == true`, ...(placement.constraints ?? [])] },
      Networks: [{ Target: host.NetworkMode! }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    // No virtual IP (this kernel has no IPVS, and nothing reaches a sandbox by its service name).
    EndpointSpec: { Mode: 'dnsrr' },
  };
}
