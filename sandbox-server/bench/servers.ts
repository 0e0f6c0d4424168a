// Servers the benchmark starts, and the guarantee that every sandbox they made is gone afterwards:
// on success, on error, and on Ctrl-C.
import { rmSync } from 'node:fs';
import { SERVER_LABEL } from '../src/sessions/session-manager.ts';
import { startTestServer, type TestServer } from '../src/test-support/harness.ts';
import type { Sandbox } from '../src/drivers/driver.ts';
import { log, sleep } from './stats.ts';

const live = new Set<TestServer>();
const stopping = new Map<TestServer, Promise<void>>();
let interrupted = false;

/** Thrown by steps once Ctrl-C was pressed, so they stop making sandboxes. */
export function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

export async function startServer(env: Record<string, string>): Promise<TestServer> {
  checkInterrupted();
  const server = await startTestServer({ DOCKYARD_LOG_LEVEL: 'error', ...env });
  live.add(server);
  return server;
}

/** The sandboxes this server made (other servers on the same engine, tests included, are left alone). */
export async function ownSandboxes(server: TestServer): Promise<Sandbox[]> {
  return (await server.driver.list()).filter((s) => s.labels[SERVER_LABEL] === server.instanceId);
}

/**
 * Waits out sandbox creations in flight first: one that finishes after the server's own clean-up
 * lists the sandboxes would outlive it (and the pool keeps creating while it is short).
 */
async function settle(server: TestServer): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const s = server.sessions.stats();
    if (s.creating === 0 && server.sessions.pool.count() === server.sessions.pool.ready()) return;
    await sleep(100);
  }
}

async function removeAll(server: TestServer, parallel = 8): Promise<number> {
  const queue = await ownSandboxes(server);
  const total = queue.length;
  if (total > 0) log(`removing ${total} sandbox(es)`);
  const worker = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      await server.driver.remove(s.id).catch((err: Error) => log(`removing ${s!.id} failed: ${err.message}`));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return total;
}

export function stopServer(server: TestServer): Promise<void> {
  let done = stopping.get(server);
  if (done) return done;
  done = (async () => {
    await settle(server);
    // stop() drains the pool and removes this server's sandboxes; the sweep after it is for a
    // session creation that an interrupted step left in flight.
    await server.stop().catch((err: Error) => log(`server stop failed: ${err.message}`));
    await removeAll(server);
    rmSync(server.config.dataDir, { recursive: true, force: true });
    live.delete(server);
  })();
  stopping.set(server, done);
  return done;
}

/** Ctrl-C (or SIGTERM, or a crash) removes every sandbox before exiting; a second Ctrl-C exits at once. */
export function cleanUpOnSignals(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      const ids = [...live].map((s) => s.instanceId);
      log(
        `${signal} again: exiting now. Leftovers, if any: ${ids.map((id) => `docker rm -f $(docker ps -aq --filter label=${SERVER_LABEL}=${id})`).join('; ') || 'none'}`,
      );
      process.exit(130);
    }
    interrupted = true;
    log(`${signal}: removing the benchmark's sandboxes (press Ctrl-C again to skip)…`);
    void Promise.allSettled([...live].map(stopServer)).then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A throw outside the steps' try/finally would otherwise end the process with sandboxes running.
  process.on('uncaughtException', (err) => {
    log(`uncaught: ${err.stack ?? String(err)}`);
    interrupted = true;
    void Promise.allSettled([...live].map(stopServer)).then(() => process.exit(1));
  });
}
