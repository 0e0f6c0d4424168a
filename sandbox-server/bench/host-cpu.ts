// The host's CPU while a benchmark runs, split by who used it: the deployment's sandboxes (their
// cgroups), its servers (their processes), this process, and the rest of the host.
import { readFileSync } from 'node:fs';
import { dockerClient } from '../src/engine/engine.ts';
import { SERVER_LABEL } from '../src/sessions/session-manager.ts';
import type { Deployment } from '../src/test-support/deployment.ts';

export interface Cpu {
  /** The host's busy time (not idle or iowait), every core. */
  busy: number;
  /** The class's sandboxes, what runs inside them included (their cgroups). */
  sandboxes: number;
  /** Every container on the engine: the class's sandboxes and whatever else runs there. */
  containers: number;
  servers: number[];
  /** This process: the learners' sockets. */
  learners: number;
}

const read = (path: string) => readFileSync(path, 'utf8');
/** cgroup v1 with the cgroupfs driver, as Dockyard's engine runs (see bench/memory.ts). */
const cgroupCpuS = (id = '') =>
  Number(read(`/sys/fs/cgroup/cpuacct${id.startsWith('/') ? id : `/docker/${id}`}/cpuacct.usage`)) / 1e9;

/**
 * CPU-seconds so far, each counter from its own start: only differences mean anything. With
 * `hostCgroups` (the cgroup parents of sandbox hosts on this machine), the sandboxes are everything
 * under those.
 */
export async function cpuNow(d: Deployment, hostCgroups?: string[]): Promise<Cpu> {
  const [, ...ticks] = read('/proc/stat').split('\n')[0]!.trim().split(/\s+/).map(Number);
  // The sandbox hosts' containers, read once; else this engine's containers of the deployment.
  const onHosts = hostCgroups?.reduce((sum, parent) => sum + cgroupCpuS(parent), 0);
  const ids =
    onHosts !== undefined
      ? []
      : (await dockerClient('/var/run/docker.sock').listContainers({ all: true }))
          .filter((c) => c.Labels[SERVER_LABEL] === d.id)
          .map((c) => c.Id);
  // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in ticks of 1/100 s.
  const proc = (pid = 0) => read(`/proc/${pid}/stat`).split(') ')[1]!.split(' ').slice(11, 13).map(Number);
  const me = process.cpuUsage();
  return {
    busy: (ticks.reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!) / 100,
    sandboxes: onHosts ?? ids.reduce((sum, id) => sum + cgroupCpuS(id), 0),
    containers: cgroupCpuS() + (onHosts ?? 0),
    servers: d.replicas.map((r) => proc(r.child.pid).reduce((a, b) => a + b, 0) / 100),
    learners: (me.user + me.system) / 1e6,
  };
}
