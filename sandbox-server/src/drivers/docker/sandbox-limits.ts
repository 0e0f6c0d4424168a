// Which of its own limits keeps a sandbox from starting anything, in words for its learner. Read on
// the host from the sandbox's cgroups, when a command the server runs there could not start.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cgroupDirs } from './cgroup-delegation.ts';

/** How close to its pids limit counts as at it: processes come and go while we look. */
const PIDS_SLACK = 0.95;

const readNumber = (path: string) =>
  readFile(path, 'utf8').then(
    (t) => Number(t.trim()),
    () => NaN,
  );

/** A sentence naming the limit the sandbox whose first process is `pid` is at, or undefined. */
export async function limitReached(pid: number): Promise<string | undefined> {
  const procCgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  // v1 lists a pids controller; on v2 (one hierarchy at /sys/fs/cgroup) its files are in the one folder.
  const dirs = [...cgroupDirs(procCgroup), ...cgroupDirs(procCgroup, '/sys/fs/cgroup', true)];
  for (const dir of dirs) {
    const [current, max] = await Promise.all([
      readNumber(join(dir, 'pids.current')),
      readNumber(join(dir, 'pids.max')),
    ]);
    if (current >= max * PIDS_SLACK) {
      return `It runs ${current} processes and threads, inner containers included, and may run at most ${max}: nothing new can start until some end.`;
    }
  }
  return undefined;
}
