// A server on PostgreSQL when PostgreSQL goes away and comes back: /readyz says not ready (a load
// balancer then sends learners to another replica), /livez stays up, the process survives the
// connections PostgreSQL closed, and once the database is back the server is ready by itself, with
// nothing lost.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';
import { startPostgres, type PostgresServer } from '../test-support/postgres-server.ts';

let pg: PostgresServer | undefined;
let server: TestServer | undefined;
beforeAll(async () => {
  pg = await startPostgres();
  server = await startTestServer({ DATABASE_URL: pg.url });
});
afterAll(async () => {
  await server?.stop();
  await pg?.stop();
});

const status = async (path: string) => {
  const r = await fetch(`${server!.url}${path}`);
  return { status: r.status, body: (await r.json()) as { error?: { code: string } } };
};

it('is not ready while PostgreSQL is away, stays alive, and is ready again with its data once it is back', async () => {
  const client = new TestClient(server!.url);
  const session = await client.createSession();
  expect((await status('/readyz')).status).toBe(200);

  await pg!.halt();
  const away = await status('/readyz');
  expect(away.status).toBe(503);
  expect(away.body.error?.code).toBe('STORE_UNREACHABLE');
  expect((await status('/livez')).status).toBe(200);

  await pg!.resume();
  let back = away;
  for (let i = 0; i < 100 && back.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 200));
    back = await status('/readyz');
  }
  expect(back.status).toBe(200);
  // The learner's session is where it was, in the server and in the table.
  expect((await client.req('GET', `/api/sessions/${session}`)).status).toBe(200);
  expect((await server!.store.sessions.all()).map((r) => r.id)).toContain(session);
  expect((await client.req('DELETE', `/api/sessions/${session}`)).status).toBeLessThan(300);
  expect((await server!.store.sessions.all()).map((r) => r.id)).not.toContain(session);
}, 120_000);
