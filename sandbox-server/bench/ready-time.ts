// Session ready time: POST /api/sessions until its 201, cold (a sandbox started for the request)
// and warm (handed out by the pool).
import { dockerClient } from '../src/engine/engine.ts';
import { TestClient, type TestServer } from '../src/test-support/harness.ts';
import { checkInterrupted } from './servers.ts';
import { log, ms, sleep } from './stats.ts';

/**
 * One timed creation by a new owner (an owner who already has a session gets it back, uncounted),
 * then its end. With `inner`, also how long the sandbox's own engine took to answer after its
 * container started: the container's StartedAt against its dockerd's "API listen" line.
 */
async function timedCreate(server: TestServer, inner = false): Promise<{ ms: number; innerMs?: number }> {
  const client = new TestClient(server.url);
  const started = performance.now();
  const r = await client.req<{ session: { id: string } }>('POST', '/api/sessions', {});
  const elapsed = performance.now() - started;
  if (r.status !== 201) throw new Error(`POST /api/sessions answered ${r.status}: ${JSON.stringify(r.body)}`);
  const innerMs = inner ? await innerReadyMs(server, r.body.session.id) : undefined;
  const del = await client.req('DELETE', `/api/sessions/${r.body.session.id}`);
  if (del.status !== 204) throw new Error(`DELETE /api/sessions/:id answered ${del.status}`);
  return { ms: elapsed, ...(innerMs === undefined ? {} : { innerMs }) };
}

async function innerReadyMs(server: TestServer, sessionId: string): Promise<number> {
  const sandbox = server.sessions.sandboxOf(sessionId);
  const info = await dockerClient('/var/run/docker.sock').getContainer(`dockyard-sbx-${sandbox}`).inspect();
  const line = await server.driver.exec(sandbox, ['grep', '-m1', 'API listen on', '/var/log/dockerd.log']);
  const at = /time="([^"]+)"/.exec(line.stdout)?.[1];
  if (!at) throw new Error(`no "API listen" line in the sandbox's dockerd.log: ${line.stdout}${line.stderr}`);
  return Date.parse(at) - Date.parse(info.State.StartedAt);
}

export interface ColdTimes {
  /** POST /api/sessions until its answer. */
  ready: number[];
  /** The sandbox's container start until its own engine listens. */
  inner: number[];
}

export async function coldReadyTimes(server: TestServer, runs: number): Promise<ColdTimes> {
  const times: ColdTimes = { ready: [], inner: [] };
  for (let i = 0; i < runs; i++) {
    checkInterrupted();
    const t = await timedCreate(server, true);
    times.ready.push(t.ms);
    times.inner.push(t.innerMs!);
    log(`cold ${i + 1}/${runs}: ${ms(t.ms)} (inner engine ${ms(t.innerMs!)} after its container started)`);
  }
  return times;
}

/** Each run starts once the pool holds a ready sandbox, as a learner arriving at a quiet moment would. */
export async function warmReadyTimes(server: TestServer, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const deadline = Date.now() + 120_000;
    while (server.sessions.pool.ready() < 1) {
      checkInterrupted();
      if (Date.now() > deadline) throw new Error('the warm pool had no ready sandbox after 120 s');
      await sleep(50);
    }
    times.push((await timedCreate(server)).ms);
    log(`warm ${i + 1}/${runs}: ${ms(times.at(-1)!)} (pool ready: ${server.sessions.pool.ready()})`);
  }
  return times;
}
