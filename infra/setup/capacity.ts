// Set-up steps that size the host for the configured capacity: the kernel limits all sandboxes share,
// and the disk their sparse disk files may grow into. Both read the server's own configuration.
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Capacity, KERNEL_LIMITS, raiseKernelLimits, SYSCTL_FILE } from '../engine/host-limits.ts';
import { detail, red, step } from './lib/steps.ts';

const GiB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/** The server's configuration, loaded once the npm dependencies (zod) are installed. */
async function serverConfig() {
  const { loadConfig } = await import('../../sandbox-server/src/config.ts');
  return loadConfig(process.env);
}

export async function kernelLimitsStep(): Promise<void> {
  const config = await serverConfig();
  const c: Capacity = {
    maxSandboxes: config.maxSandboxes,
    memoryBytes: config.limits.memoryBytes,
    pids: config.limits.pids,
  };
  await step('Kernel limits the sandboxes share', async () => {
    const r = await raiseKernelLimits(c);
    for (const s of r.raised) detail(`${s.limit.key}: ${s.current} → ${s.required}`);
    for (const s of r.refused) {
      detail(red(`${s.limit.key} is ${s.current}; ${c.maxSandboxes} sandboxes need ${s.required}: ${s.limit.raise}`));
    }
    const sized = `${KERNEL_LIMITS.length - r.refused.length} of ${KERNEL_LIMITS.length} fit ${c.maxSandboxes} sandboxes`;
    const warn = r.refused.length ? red(` (the server will not start with ${c.maxSandboxes})`) : '';
    return { value: r, note: `${sized}, ${r.raised.length} raised, kept in ${SYSCTL_FILE}${warn}` };
  });
}

/** The nearest existing folder at or above `path`. */
function existing(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * Warns when the data folder's volume cannot hold every sandbox disk full plus the reserve: the
 * server then refuses sandboxes (OUT_OF_CAPACITY) before DOCKYARD_MAX_SANDBOXES.
 */
export async function diskCapacityStep(): Promise<void> {
  const config = await serverConfig();
  await step('Disk for sandbox disks', async () => {
    const dir = join(config.dataDir, 'disks');
    const volume = await statfs(existing(dir));
    const free = volume.bavail * volume.bsize;
    const need = config.maxSandboxes * config.limits.storageBytes + config.diskReserveBytes;
    const fits = Math.max(0, Math.floor((free - config.diskReserveBytes) / config.limits.storageBytes));
    const plan = `${config.maxSandboxes} × ${gib(config.limits.storageBytes)} + ${gib(config.diskReserveBytes)} kept`;
    if (need <= free) return { value: fits, note: `${gib(free)} free under ${dir}: room for ${plan}` };
    return {
      value: fits,
      note: red(
        `${gib(free)} free under ${dir}, but ${plan} need ${gib(need)}: about ${fits} sandboxes will be admitted ` +
          '(less what running ones already hold). Lower DOCKYARD_MAX_SANDBOXES or DOCKYARD_SANDBOX_STORAGE_MB, or free space',
      ),
    };
  });
}
