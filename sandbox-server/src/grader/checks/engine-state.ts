// Reading the sandbox's engine and ~/work for the checks: the API shapes they use, and lookups that
// treat "not there" as an answer, not an error.
import { posix } from 'node:path';
import { PlatformFault, WORK_DIR, type Probe } from '../probe.ts';
import { enc, q } from './outcome.ts';

// Engine API shapes: only the fields the checks read.
export interface ContainerInfo {
  Id: string;
  Name: string;
  Created: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Pid: number;
    /** "0001-01-01T00:00:00Z" until the container first stops. */
    FinishedAt: string;
    Health?: { Status: string };
  };
  Config: { Image: string; Env: string[] | null; User: string; Labels: Record<string, string> | null };
  HostConfig: {
    Memory: number;
    NanoCpus: number;
    CpuQuota: number;
    CpuPeriod: number;
    PidsLimit: number | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    /** `--tmpfs` mounts: they are not in Mounts (only `--mount type=tmpfs` ones are). */
    Tmpfs?: Record<string, string> | null;
  };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string }>;
  NetworkSettings: {
    Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null;
    Networks: Record<string, unknown>;
  };
}

export interface ImageInfo {
  Id: string;
  Size: number;
  RootFS: { Layers?: string[] };
  Config: {
    User: string;
    Labels: Record<string, string> | null;
    ExposedPorts: Record<string, object> | null;
    Healthcheck?: { Test?: string[] };
  };
}

/** A container by name or full id (never an id prefix), or undefined. */
export async function inspectContainer(p: Probe, name: string): Promise<ContainerInfo | undefined> {
  const r = await p.api<ContainerInfo>(`/containers/${enc(name)}/json`);
  // The engine takes an id prefix as well as a name: without a container named c1, `c1` would
  // find one whose id starts with c1.
  return r.status === 200 && (r.body.Id === name || short(r.body) === name) ? r.body : undefined;
}

export const short = (c: ContainerInfo) => c.Name.replace(/^\//, '');

export function stateText(c: ContainerInfo): string {
  if (c.State.Status === 'exited') return `exited (code ${c.State.ExitCode})`;
  if (c.State.Health && c.State.Running) return `running (${c.State.Health.Status})`;
  return c.State.Status;
}

export async function inspectImage(p: Probe, ref: string): Promise<ImageInfo | undefined> {
  const r = await p.api<ImageInfo>(`/images/${enc(ref)}/json`);
  return r.status === 200 ? r.body : undefined;
}

/** A file under ~/work (at most 1 MiB of it), or undefined when there is none. */
export async function readWorkFile(p: Probe, rel: string): Promise<string | undefined> {
  const path = posix.resolve(WORK_DIR, rel);
  const r = await p.sh(`[ -f ${q(path)} ] || exit 3; head -c 1048576 -- ${q(path)}`);
  if (r.exitCode === 3) return undefined;
  if (r.exitCode !== 0) throw new PlatformFault(`could not read ${path}: ${r.stderr.trim()}`);
  return r.stdout;
}
