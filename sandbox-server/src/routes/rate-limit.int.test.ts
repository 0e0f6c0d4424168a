// New sandboxes are rate-limited per client address; a learner's existing session never is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ DOCKYARD_SANDBOX_CREATE_LIMIT: '1' });
});
afterAll(async () => {
  await server?.stop();
});

describe('sandbox creation rate limit', () => {
  it('refuses a second new sandbox from the same address with 429 and Retry-After, but returns an existing one', async () => {
    const first = new TestClient(server.url);
    const created = await first.req('POST', '/api/sessions', {});
    expect(created.status).toBe(201);
    expect((await first.req('POST', '/api/sessions', {})).status).toBe(200);

    const second = new TestClient(server.url);
    const refused = await second.req<{ error: { code: string; retryAfterSeconds: number } }>(
      'POST',
      '/api/sessions',
      {},
    );
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(refused.body.error.retryAfterSeconds).toBe(Number(refused.headers.get('retry-after')));
  });
});
