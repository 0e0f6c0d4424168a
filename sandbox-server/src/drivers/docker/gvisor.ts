// What a sandbox needs differently under gVisor (runsc): every difference from runc is here, and
// applied only when the engine's runtime is runsc, so runc sandboxes keep their options as they are.
import { chmodSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type Docker from 'dockerode';
import { MIRROR_ALIAS } from '../../../../images/platform.ts';
import { DISK_MOUNTS } from './sandbox-disk.ts';

/** Whether the engine's runtime (its name, or the binary registered for it) is gVisor's. */
export const isGvisor = (runtime: string, path = '') => runtime === 'runsc' || /(^|\/)runsc$/.test(path);

export interface GvisorPlacement {
  /** The mirror's address on the sandbox network: the engine's embedded DNS does not answer under runsc. */
  mirrorIp: string;
}

/**
 * Options on top of the runc ones:
 * - the inner engine's storage is a tmpfs in the sandbox (gVisor's overlay takes only a tmpfs as its
 *   upper layer), sized to the storage limit but never more than half the memory, which it counts
 *   against; home, /tmp and logs stay on the sandbox's own disk;
 * - tmpfs mounts are `exec` (Docker's default is noexec, and gVisor applies it to the overlay
 *   mounts made on it: inner containers failed with "exec /bin/echo: permission denied");
 * - the name `mirror` is in /etc/hosts, since the engine's DNS (127.0.0.11) lives in the host's view
 *   of the network namespace, which gVisor's own network stack does not use;
 * - `DOCKYARD_RUNTIME=gvisor` tells the entrypoint to run the inner engine without iptables and to
 *   NAT inner containers' traffic itself.
 */
export function withGvisor(
  options: Docker.ContainerCreateOptions,
  memoryBytes: number,
  storageBytes: number,
  { mirrorIp }: GvisorPlacement,
): Docker.ContainerCreateOptions {
  const host = options.HostConfig ?? {};
  const storage = Math.min(storageBytes, Math.floor(memoryBytes / 2));
  const tmpfs = Object.fromEntries(Object.entries(host.Tmpfs ?? {}).map(([path, opts]) => [path, `${opts},exec`]));
  return {
    ...options,
    Env: [...(options.Env ?? []), 'DOCKYARD_RUNTIME=gvisor'],
    HostConfig: {
      ...host,
      Binds: (host.Binds ?? []).filter((b) => !b.endsWith(`:${DISK_MOUNTS.docker}`)),
      Tmpfs: { ...tmpfs, [DISK_MOUNTS.docker]: `size=${storage},mode=0711,exec` },
      ExtraHosts: [...(host.ExtraHosts ?? []), `${MIRROR_ALIAS}:${mirrorIp}`],
    },
  };
}

/**
 * runsc's gofer opens a sandbox's binds as the remapped root (uid 100000), where runc mounts them as
 * host root: every folder above the disks must let others through (x), or the sandbox dies at start
 * with runsc's "cannot read client sync file". Returns the first folder that does not, if any.
 */
export function closedAncestor(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return d;
    } catch {
      // Not made yet: the disks' folder is created with the first disk.
    }
    if (d === dirname(d)) return undefined;
  }
}

/**
 * The disks' folder and the data folder above it are Dockyard's (made 0700): when this process owns
 * them, it lets others through them itself (0711, still unlistable; every file the server keeps
 * there is 0600). Folders further up are the host owner's to open, so the start-up check names them.
 */
export function openOwnFolders(dir: string): void {
  for (const d of [resolve(dir), dirname(resolve(dir))]) {
    try {
      const { mode, uid } = statSync(d);
      if (uid === process.getuid?.() && (mode & 0o001) === 0) chmodSync(d, (mode & 0o7777) | 0o011);
    } catch {
      // Not made yet, or not ours to change.
    }
  }
}
