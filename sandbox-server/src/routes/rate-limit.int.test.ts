// New sandboxes, sign-ins and sign-ups are rate-limited per client address; a learner's existing
// session never is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    DOCKYARD_SANDBOX_CREATE_LIMIT: '1',
    DOCKYARD_SIGN_IN_LIMIT: '3',
    DOCKYARD_SIGN_UP_LIMIT: '2',
  });
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

type Refusal = { error: { code: string; retryAfterSeconds: number } };

describe('account rate limits', () => {
  it('answers the fourth sign-in attempt within 15 minutes with 429 TOO_MANY_SIGN_INS and Retry-After', async () => {
    const c = new TestClient(server.url);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      codes.push((await c.req('POST', '/api/account/sign-in', { login: 'ada', password: `guess number ${i}` })).status);
    }
    expect(codes).toEqual([401, 401, 401, 429]);
    const refused = await c.req<Refusal>('POST', '/api/account/sign-in', { login: 'ada', password: 'guess again' });
    expect(refused.body.error.code).toBe('TOO_MANY_SIGN_INS');
    const after = Number(refused.headers.get('retry-after'));
    expect(after).toBeGreaterThan(800);
    expect(after).toBeLessThanOrEqual(900);
  });

  it('answers the third sign-up within the hour with 429 TOO_MANY_SIGN_UPS', async () => {
    const signUp = (name: string) =>
      new TestClient(server.url).req<Refusal>('POST', '/api/account/sign-up', {
        username: name,
        password: 'long enough',
      });
    expect((await signUp('first')).status).toBe(200);
    expect((await signUp('second')).status).toBe(200);
    const refused = await signUp('third');
    expect([refused.status, refused.body.error.code]).toEqual([429, 'TOO_MANY_SIGN_UPS']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
  });
});
