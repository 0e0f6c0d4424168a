// Which of its own limits keeps a sandbox from starting anything, in words for its learner, when a
// command the server runs there could not start. Asked of the engine that runs the sandbox (its
// stats), so it is the same on this host and on a Swarm host: the engine reads the sandbox's cgroup,
// whose counts include its inner containers, without starting anything in the sandbox.
import type Docker from 'dockerode';

/** How close to its pids limit counts as at it: processes come and go while we look. */
const PIDS_SLACK = 0.95;

interface PidsStats {
  pids_stats?: { current?: number; limit?: number };
}

/** A sentence naming the limit the sandbox `container` is at, or undefined (also when its engine cannot say). */
export async function limitReached(container: Docker.Container): Promise<string | undefined> {
  // One sample, not two a second apart (API 1.41): the pids counts need no rate.
  const stats = (await container
    .stats({ stream: false, 'one-shot': true } as { stream: false })
    .catch(() => undefined)) as PidsStats | undefined;
  const { current = 0, limit = 0 } = stats?.pids_stats ?? {};
  if (limit > 0 && current >= limit * PIDS_SLACK)
    return `It runs ${current} processes and threads, inner containers included, and may run at most ${limit}: nothing new can start until some end.`;
  return undefined;
}
