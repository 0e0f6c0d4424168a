// Session ready time: POST /api/sessions until its 201, cold (a sandbox started for the request)
// and warm (handed out by the pool).
import { TestClient, type TestServer } from '../src/test-support/harness.ts';
import { checkInterrupted } from './servers.ts';
import { log, ms, sleep } from './stats.ts';

/** One timed creation by a new owner (an owner who already has a session gets it back, uncounted), then its end. */
async function timedCreate(server: TestServer): Promise<number> {
  const client = new TestClient(server.url);
  const started = performance.now();
  const r = await client.req<{ session: { id: string } }>('POST', '/api/sessions', {});
  const elapsed = performance.now() - started;
  if (r.status !== 201) throw new Error(`POST /api/sessions answered ${r.status}: ${JSON.stringify(r.body)}`);
  const del = await client.req('DELETE', `/api/sessions/${r.body.session.id}`);
  if (del.status !== 204) throw new Error(`DELETE /api/sessions/:id answered ${del.status}`);
  return elapsed;
}

export async function coldReadyTimes(server: TestServer, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    checkInterrupted();
    times.push(await timedCreate(server));
    log(`cold ${i + 1}/${runs}: ${ms(times.at(-1)!)}`);
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
    times.push(await timedCreate(server));
    log(`warm ${i + 1}/${runs}: ${ms(times.at(-1)!)} (pool ready: ${server.sessions.pool.ready()})`);
  }
  return times;
}
