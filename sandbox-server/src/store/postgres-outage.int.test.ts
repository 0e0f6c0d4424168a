// A server on PostgreSQL when PostgreSQL goes away and comes back: /readyz says not ready and the
// API refuses at once (a load balancer then sends learners to another replica), /livez stays up, the process survives the
// connections PostgreSQL closed, and once the database is back the server is ready by itself, with
// nothing lost. And the notifications between servers (LISTEN/NOTIFY) flow again after it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';
import { startPostgres, type PostgresServer } from '../test-support/postgres-server.ts';
import { postgresNotifier } from './notifications.ts';

let pg: PostgresServer | undefined;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(() => pg?.stop());

describe('a server', () => {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer({ DATABASE_URL: pg!.url });
  });
  afterAll(() => server?.stop());

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
    expect(away.status).toBe(504);
    expect(away.body.error?.code).toBe('STORE_UNREACHABLE');
    expect((await status('/livez')).status).toBe(200);
    // Every API request is refused the same way: a load balancer then tries another server.
    const api = await client.req<{ error?: { code: string } }>('GET', `/api/sessions/${session}`);
    expect([api.status, api.body.error?.code]).toEqual([504, 'STORE_UNREACHABLE']);
    expect((await client.req('GET', '/api/me')).status).toBe(504);

    await pg!.resume();
    let back = away;
    for (let i = 0; i < 100 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      back = await status('/readyz');
    }
    expect(back.status).toBe(200);
    // Ready means the API serves again too, and the learner's session is where it was, in the server
    // and in the table.
    expect((await client.req('GET', `/api/sessions/${session}`)).status).toBe(200);
    expect((await server!.store.sessions.all()).map((r) => r.id)).toContain(session);
    expect((await client.req('DELETE', `/api/sessions/${session}`)).status).toBeLessThan(300);
    expect((await server!.store.sessions.all()).map((r) => r.id)).not.toContain(session);
  }, 120_000);
});

it('hears, from its first moment, what it publishes after subscribing', async () => {
  // A fresh notifier's listening connection is still opening: its publish waits for it.
  const notifiers = Array.from({ length: 10 }, () => postgresNotifier(pg!.url));
  try {
    const heard = await Promise.all(
      notifiers.map(async (n, i) => {
        const got: unknown[] = [];
        n.subscribe('fresh', (p) => got.push(p));
        await n.publish('fresh', i);
        await vi.waitFor(() => expect(got).toContain(i), { timeout: 2000 });
        return got.includes(i);
      }),
    );
    expect(heard.every(Boolean)).toBe(true);
  } finally {
    await Promise.all(notifiers.map((n) => n.close()));
  }
});

it('hears notifications again once PostgreSQL is back, and tells its subscribers it reconnected', async () => {
  const reconnected = vi.fn();
  const listener = postgresNotifier(pg!.url, { onReconnect: reconnected });
  const publisher = postgresNotifier(pg!.url);
  const alsoReconnected = vi.fn();
  listener.onReconnect(alsoReconnected);
  try {
    const heard: unknown[] = [];
    listener.subscribe('outage', (p) => heard.push(p));
    await listener.publish('outage', 'before'); // once heard, the listener listens
    await vi.waitFor(() => expect(heard).toEqual(['before']));

    await pg!.halt();
    await expect(publisher.publish('outage', 'while away')).rejects.toThrow();
    await pg!.resume();
    // It was away: whatever was sent meanwhile is lost, and the subscribers are told to read again.
    await vi.waitFor(() => expect(reconnected).toHaveBeenCalledTimes(1), { timeout: 20_000, interval: 100 });
    expect(alsoReconnected).toHaveBeenCalledTimes(1);
    await publisher.publish('outage', 'after');
    await vi.waitFor(() => expect(heard).toEqual(['before', 'after']));
  } finally {
    await listener.close();
    await publisher.close();
  }
}, 60_000);
