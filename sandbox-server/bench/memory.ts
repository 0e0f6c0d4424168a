// Memory as the host sees it: a sandbox container's cgroup, and the host's MemAvailable.
import { readFile } from 'node:fs/promises';

export interface SandboxMemory {
  /** memory.usage_in_bytes: everything charged to the cgroup, page cache included. */
  usage: number;
  /**
   * usage minus reclaimable page cache. total_cache also holds tmpfs pages (the sandbox's /run and
   * /etc/docker), which cannot be reclaimed without swap, so those stay counted.
   */
  unreclaimable: number;
}

const CGROUP_V1 = '/sys/fs/cgroup/memory/docker';

function statField(stat: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
  if (!m) throw new Error(`memory.stat has no ${name}`);
  return Number(m[1]);
}

/** cgroup v1 with the cgroupfs driver, as Dockyard's engine runs (infra/engine/daemon.json). */
export async function sandboxMemory(containerId: string): Promise<SandboxMemory> {
  const dir = `${CGROUP_V1}/${containerId}`;
  const [usageText, stat] = await Promise.all([
    readFile(`${dir}/memory.usage_in_bytes`, 'utf8'),
    readFile(`${dir}/memory.stat`, 'utf8'),
  ]);
  const usage = Number(usageText.trim());
  const reclaimable = statField(stat, 'total_cache') - statField(stat, 'total_shmem');
  return { usage, unreclaimable: usage - reclaimable };
}

/** MemAvailable from /proc/meminfo, in bytes: what the kernel could hand out without swapping. */
export async function memAvailable(): Promise<number> {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(await readFile('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
