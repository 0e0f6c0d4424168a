// Hands a sandbox its own cgroup subtree: with user namespaces, sandbox root is an unprivileged
// host uid, so the inner engine can only nest its containers there once that uid owns it.
import { chown, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';

/** The cgroup directories of a process, from /proc/<pid>/cgroup (v1 controllers and v2). */
export function cgroupDirs(procCgroup: string, root = '/sys/fs/cgroup', v2Only = false): string[] {
  const dirs: string[] = [];
  for (const line of procCgroup.trim().split('\n')) {
    const [, controllers, path] = line.split(':') as [string, string, string];
    if (!path) continue;
    if (controllers === '') dirs.push(join(root, v2Only ? '' : 'unified', path));
    else dirs.push(join(root, controllers.replace(/^name=/, ''), path));
  }
  return dirs;
}

/** The first uid of the remapped range (`dockremap` in /etc/subuid), as dockerd's userns-remap uses it. */
export function remappedRoot(subuid: string, user = 'dockremap'): number | undefined {
  const line = subuid.split('\n').find((l) => l.startsWith(`${user}:`));
  return line ? Number(line.split(':')[1]) : undefined;
}

/** The host uid of sandbox root under the engine's user namespaces; undefined when the engine has none. */
export async function engineRemappedRoot(docker: Docker): Promise<number | undefined> {
  const info = (await docker.info()) as { SecurityOptions?: string[] };
  if (!info.SecurityOptions?.some((o) => o.includes('userns'))) return undefined;
  const uid = remappedRoot(await readFile('/etc/subuid', 'utf8'));
  if (uid === undefined) throw new Error('The engine remaps user namespaces but /etc/subuid has no dockremap range');
  return uid;
}

async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid);
    else await chown(p, uid, uid).catch(() => undefined); // some control files refuse; they are not needed
  }
}

/** Gives `uid` the cgroup subtrees of process `pid` (the sandbox's init). Missing dirs are skipped. */
export async function delegateCgroups(pid: number, uid: number): Promise<number> {
  const procCgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  let v2Only = false;
  try {
    await readFile('/sys/fs/cgroup/cgroup.controllers');
    v2Only = true;
  } catch {
    // hybrid or v1: the v2 hierarchy, if any, is under /sys/fs/cgroup/unified
  }
  let done = 0;
  for (const dir of cgroupDirs(procCgroup, '/sys/fs/cgroup', v2Only)) {
    try {
      await chownTree(dir, uid);
      done++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return done;
}
