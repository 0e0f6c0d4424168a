// What `free`, `top` and `/proc/meminfo` show inside a sandbox: its own limits, not the host's.
// lxcfs (a FUSE file system the set-up runs on the host) answers each read of these files from
// the reader's own cgroup; the sandbox gets them bound read-only over its /proc and /sys files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where the set-up mounts lxcfs (infra/setup/lib/lxcfs.ts). */
export const LXCFS_DIR = '/var/lib/lxcfs';

/** The files lxcfs serves that runc allows over /proc (loadavg needs lxcfs's loadavg thread: not run). */
const VIEWS = [
  'proc/meminfo',
  'proc/cpuinfo',
  'proc/stat',
  'proc/uptime',
  'proc/diskstats',
  'proc/swaps',
  'sys/devices/system/cpu/online',
] as const;

/**
 * Read-only binds of lxcfs's views, or none when lxcfs is not mounted (the sandbox then shows the
 * host's numbers, as a plain container does). Checked at each create, so a restarted lxcfs counts.
 */
export function resourceViewBinds(dir = LXCFS_DIR): string[] {
  if (!existsSync(join(dir, 'proc/meminfo'))) return [];
  return VIEWS.filter((v) => existsSync(join(dir, v))).map((v) => `${join(dir, v)}:/${v}:ro`);
}

/** The binds of every view, for sandboxes on other hosts, which run lxcfs (docs/swarm.md's set-up). */
export const allResourceViewBinds = (dir = LXCFS_DIR): string[] => VIEWS.map((v) => `${join(dir, v)}:/${v}:ro`);

/**
 * `nproc` counts the CPUs a process may be scheduled on (all of the host's), not its share. GNU
 * nproc, and OpenMP programs, honour OMP_NUM_THREADS: set it to the sandbox's CPUs, rounded up.
 */
export const cpuCountEnv = (cpus: number): string => `OMP_NUM_THREADS=${Math.max(1, Math.ceil(cpus))}`;
