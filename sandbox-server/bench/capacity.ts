// Density: idle sandboxes added ten at a time while /api/health stays fast, then their memory.
import { TestClient, type TestServer } from '../src/test-support/harness.ts';
import { memAvailable, sandboxMemory, type SandboxMemory } from './memory.ts';
import { checkInterrupted, ownSandboxes } from './servers.ts';
import { log, mib, ms, percentile, sleep } from './stats.ts';

export const BATCH = 10;
export const HEALTH_P99_LIMIT_MS = 50;
/** New sandboxes boot their inner engine for a few seconds; the health check is about idle ones. */
const SETTLE_MS = 3_000;
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
    const p99 = percentile(await latencies(`${server.url}/api/health`, 100), 99);
    const livezP99 = percentile(await latencies(`${server.url}/livez`, 100), 99);
    healthP99.push({ count, p99, livezP99 });
    log(`  p99 with ${count} sandboxes: /api/health ${ms(p99)}, /livez ${ms(livezP99)}`);
    if (p99 > HEALTH_P99_LIMIT_MS) {
      stoppedBecause = `health p99 ${ms(p99)} at ${count}`;
      break;
    }
    best = count;
  }
  log(`waiting ${IDLE_MS / 1000} s, then reading the memory of ${count} idle sandboxes`);
  await sleep(IDLE_MS);
  const sandboxes = await ownSandboxes(server);
  const memory = await Promise.all(sandboxes.map((s) => sandboxMemory(s.ref)));
  const availableAtPeak = await memAvailable();
  log(`MemAvailable: ${mib(availableBefore)} before, ${mib(availableAtPeak)} with ${sandboxes.length} sandboxes`);
  return { best, reached: count, stoppedBecause, healthP99, memory, availableBefore, availableAtPeak };
}
