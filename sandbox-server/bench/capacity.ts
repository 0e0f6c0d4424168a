// Density: idle sandboxes added ten at a time while /api/health stays fast, then their memory.
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { raiseKernelLimits } from '../../infra/engine/host-limits.ts';
import { DEFAULT_DISK_RESERVE_BYTES } from '../src/drivers/docker/sandbox-disk.ts';
import { TestClient, type TestServer } from '../src/test-support/harness.ts';
import { memAvailable, sandboxMemory, type SandboxMemory } from './memory.ts';
import { checkInterrupted, ownSandboxes } from './servers.ts';
import { log, mib, ms, percentile, sleep } from './stats.ts';

const MiB = 2 ** 20;
export const BATCH = 10;
export const HEALTH_P99_LIMIT_MS = 50;
export const DENSITY_MEMORY_MB = 256;
/** The density run stops before the host runs short of memory: other work shares this machine. */
const MIN_AVAILABLE = 2 * 2 ** 30;

/**
 * The server settings for `max` idle sandboxes: the kernel limits they share raised for them (as
 * the set-up does for the configured capacity), and disks as large as the free disk holds for all
 * of them without overcommitting (disk admission refuses beyond that), from 128 to 512 MiB.
 */
export async function densityCapacity(max: number): Promise<{ maxSandboxes: number; storageMb: number; note: string }> {
  const maxSandboxes = Math.max(200, max);
  const raised = await raiseKernelLimits({ maxSandboxes, memoryBytes: DENSITY_MEMORY_MB * MiB, pids: 1024 });
  for (const s of raised.refused) log(`${s.limit.key} is ${s.current}, ${maxSandboxes} sandboxes need ${s.required}`);
  const volume = await statfs(tmpdir());
  const room = volume.bavail * volume.bsize - DEFAULT_DISK_RESERVE_BYTES;
  const storageMb = Math.min(512, Math.max(128, Math.floor(room / max / MiB)));
  const kernel = raised.raised.map((s) => `${s.limit.key} ${s.current} → ${s.required}`).join(', ') || 'none';
  return {
    maxSandboxes,
    storageMb,
    note:
      `Density sandboxes get ${storageMb} MiB disks: ${mib(room)} of free disk (less the reserve) for ${max} of them. ` +
      `Kernel limits raised for ${maxSandboxes} sandboxes of ${DENSITY_MEMORY_MB} MiB: ${kernel}.`,
  };
}
/** New sandboxes boot their inner engine for a few seconds; the health check is about idle ones. */
const SETTLE_MS = 3_000;
/** Measurements of /api/health after a batch before a p99 over the limit ends the run. */
const HEALTH_ATTEMPTS = 3;
/** How long sandboxes sit idle before their memory is read. */
const IDLE_MS = 5_000;

export interface CapacityResult {
  /** Largest count after which health p99 was still within the limit. */
  best: number;
  /** Sandboxes running when the run stopped. */
  reached: number;
  stoppedBecause: string;
  /** /livez too: it answers without the engine, so the two tell the server's delay from the engine's. */
  healthP99: { count: number; p99: number; livezP99: number }[];
  memory: SandboxMemory[];
  availableBefore: number;
  availableAtPeak: number;
}

async function latencies(url: string, requests: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

export async function capacity(server: TestServer, cap: number): Promise<CapacityResult> {
  const availableBefore = await memAvailable();
  const healthP99: CapacityResult['healthP99'] = [];
  let count = 0;
  let best = 0;
  let stoppedBecause = `cap of ${cap} reached`;
  while (count < cap) {
    checkInterrupted();
    const size = Math.min(BATCH, cap - count);
    const started = performance.now();
    // One owner per sandbox: the same client would get its existing session back.
    const results = await Promise.allSettled(
      Array.from({ length: size }, () => new TestClient(server.url).createSession()),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    count += size - failed.length;
    log(`${count} sandboxes (batch of ${size} in ${ms(performance.now() - started)}, ${failed.length} failed)`);
    if (failed.length > 0) {
      stoppedBecause = `creation failed at ${count + 1}: ${String((failed[0] as PromiseRejectedResult).reason)}`;
      break;
    }
    await sleep(SETTLE_MS);
    checkInterrupted();
    let p99 = Infinity;
    // A p99 over the limit is measured again: work of other users of the host comes and goes; a
    // limit of this many sandboxes stays.
    for (let attempt = 1; attempt <= HEALTH_ATTEMPTS && p99 > HEALTH_P99_LIMIT_MS; attempt++) {
      if (attempt > 1) await sleep(SETTLE_MS);
      p99 = percentile(await latencies(`${server.url}/api/health`, 100), 99);
      const livezP99 = percentile(await latencies(`${server.url}/livez`, 100), 99);
      healthP99.push({ count, p99, livezP99 });
      log(`  p99 with ${count} sandboxes: /api/health ${ms(p99)}, /livez ${ms(livezP99)} (${attempt})`);
    }
    if (p99 > HEALTH_P99_LIMIT_MS) {
      stoppedBecause = `health p99 ${ms(p99)} at ${count}`;
      break;
    }
    best = count;
    const available = await memAvailable();
    if (available < MIN_AVAILABLE) {
      stoppedBecause = `host MemAvailable ${mib(available)} at ${count}, under ${mib(MIN_AVAILABLE)}`;
      break;
    }
  }
  log(`waiting ${IDLE_MS / 1000} s, then reading the memory of ${count} idle sandboxes`);
  await sleep(IDLE_MS);
  const sandboxes = await ownSandboxes(server);
  const memory = await Promise.all(sandboxes.map((s) => sandboxMemory(s.ref)));
  const availableAtPeak = await memAvailable();
  log(`MemAvailable: ${mib(availableBefore)} before, ${mib(availableAtPeak)} with ${sandboxes.length} sandboxes`);
  return { best, reached: count, stoppedBecause, healthP99, memory, availableBefore, availableAtPeak };
}
