// The one place sandbox containers get their security settings and limits.
import type Docker from 'dockerode';
import { MIRROR_URL_FOR_SANDBOXES, OWNER_LABEL, SANDBOX_IMAGE, SANDBOX_NETWORK } from '../../../../images/platform.ts';
import { SIGPENDING_PER_SANDBOX } from '../../../../infra/engine/host-limits.ts';
import { sandboxSeccompProfile } from '../../../../infra/engine/seccomp/sandbox-profile.ts';
import type { SandboxSpec } from '../driver.ts';
import { cpuCountEnv } from './resource-views.ts';

/** Built once: it is the same for every sandbox. */
const SECCOMP_PROFILE = sandboxSeccompProfile();

export const SANDBOX_LABEL = 'org.dockyard.sandbox';

/**
 * Capabilities the inner dockerd needs on top of Docker's default set: SYS_ADMIN to mount
 * overlay filesystems and namespaces for its containers, NET_ADMIN for bridges and iptables,
 * SYS_PTRACE so `docker exec` can join a container whose main process dropped root (postgres,
 * redis): such a process is not dumpable and its /proc/<pid>/ns links need SYS_PTRACE. With
 * user namespaces all three are scoped to the sandbox's own namespace.
 * Never `--privileged`: devices stay on Docker's allow-list and /proc, /sys keep their masks.
 */
export const SANDBOX_CAPS = ['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE'] as const;

export const containerName = (sandboxId: string) => `dockyard-sbx-${sandboxId}`;

export interface SandboxPlacement {
  /** Binds of the sandbox's own disk (see sandbox-disk.ts): its only writable, persistent places. */
  diskBinds: string[];
  /** Read-only binds that show the sandbox its own limits in /proc (see resource-views.ts). */
  viewBinds?: string[];
  /** The OCI runtime the engine starts it with (`runc`, `runsc`, ...). */
  runtime: string;
  image?: string;
}

/** The create options for a sandbox container. Pure, so tests can read every setting. */
export function sandboxCreateOptions(spec: SandboxSpec, placement: SandboxPlacement): Docker.ContainerCreateOptions {
  const { limits } = spec;
  const { diskBinds, viewBinds = [], runtime, image = SANDBOX_IMAGE } = placement;
  return {
    name: containerName(spec.id),
    Image: image,
    Hostname: 'sandbox',
    Env: [`DOCKYARD_MIRROR=${MIRROR_URL_FOR_SANDBOXES}`, cpuCountEnv(limits.cpus)],
    Labels: { ...spec.labels, [OWNER_LABEL]: 'dockyard', [SANDBOX_LABEL]: spec.id },
    HostConfig: {
      Privileged: false,
      CapAdd: [...SANDBOX_CAPS],
      // Docker's default seccomp profile plus the few syscalls an inner engine needs, minus those
      // whose quotas every sandbox shares.
      SecurityOpt: [`seccomp=${SECCOMP_PROFILE}`],
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      // Queued signals are counted for host root, every sandbox together: each gets a share.
      Ulimits: [{ Name: 'sigpending', Soft: SIGPENDING_PER_SANDBOX, Hard: SIGPENDING_PER_SANDBOX }],
      Runtime: runtime,
      // Nothing outside the sandbox's own disk is writable, so nothing a learner writes lands on
      // the host's disk uncapped (overlay2 on ext4 has no per-container quota).
      ReadonlyRootfs: true,
      Binds: [...diskBinds, ...viewBinds],
      // Small scratch space in memory: sockets and state of the inner engine, and its config.
      Tmpfs: { '/run': 'size=64m,mode=0755', '/etc/docker': 'size=1m,mode=0755' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
      NetworkMode: SANDBOX_NETWORK,
      // External names do not resolve (the network policy refuses DNS egress). Give up after a
      // second, not after the resolver's 20 s of retries: the inner engine looks Docker Hub up on pulls.
      DnsOptions: ['timeout:1', 'attempts:1'],
      RestartPolicy: { Name: 'no' },
      Init: false,
    },
  };
}
