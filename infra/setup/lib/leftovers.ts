// Debian's runsc leaves its sandbox and gofer processes behind when a container fails to start;
// they hold what the container had (its disk's mount). Nothing else runs with the container's id.
import { readdir, readFile } from 'node:fs/promises';

/** Kills the processes still carrying a removed container's (unique, 64-hex) id in their command line. */
export async function killLeftovers(containerId: string): Promise<void> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(containerId)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
  // Give the kernel a moment to release what they held (the disk's mount).
  await new Promise((r) => setTimeout(r, 200));
}
