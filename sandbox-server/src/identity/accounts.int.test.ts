// Accounts through the real server: a guest signs up and keeps their progress and sandbox, signs
// out into a fresh guest, signs in again from another browser (whose guest progress merges in);
// CSRF tokens, password change, roles and GitHub's redirect (rate limits: routes/rate-limit.int.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';

interface Me {
  user: { id: string; username: string | null; displayName: string; role: string; guest: boolean };
  github: boolean;
}
type ErrorReply = { error: { code: string; title: string; hint: string } };

const pass = (score: number, maxScore = score) => ({ score, maxScore, passed: score === maxScore, checks: [] });

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    DOCKYARD_ADMINS: 'Root',
    DOCKYARD_GITHUB_CLIENT_ID: 'Iv1.dockyardtest',
    DOCKYARD_GITHUB_CLIENT_SECRET: 'not-a-real-secret',
  });
});
afterAll(() => server?.stop());

const me = async (c: TestClient) => (await c.req<Me>('GET', '/api/me')).body;

describe('accounts', () => {
  it("keeps a guest's progress and sandbox when they sign up, and signing out leaves a fresh guest", async () => {
    const browser = new TestClient(server.url);
    const guest = (await me(browser)).user;
    expect(guest).toMatchObject({ guest: true, username: null, role: 'learner' });
    // As grading does: the guest is stored on their first attempt.
    await server.store.ensureGuest(guest.id);
    await server.store.recordAttempt(guest.id, 'engine-facts', 'architecture', pass(1));
    const sessionId = await browser.createSession();

    const up = await browser.req<{ user: Me['user'] }>('POST', '/api/account/sign-up', {
      username: 'Ada',
      password: 'analytical engine',
      email: 'ada@example.org',
    });
    expect(up.status).toBe(200);
    expect(up.body.user).toMatchObject({ id: guest.id, username: 'ada', displayName: 'Ada', guest: false });
    expect((await browser.req<{ progress: unknown[] }>('GET', '/api/progress')).body.progress).toHaveLength(1);
    expect((await browser.req('GET', `/api/sessions/${sessionId}`)).status).toBe(200);

    const out = await browser.req<{ user: Me['user'] }>('POST', '/api/account/sign-out');
    expect(out.status).toBe(200);
    expect(out.body.user).toMatchObject({ guest: true });
    expect(out.body.user.id).not.toBe(guest.id);
    expect((await me(browser)).user.id).toBe(out.body.user.id);
    expect((await browser.req<{ progress: unknown[] }>('GET', '/api/progress')).body.progress).toEqual([]);
    expect((await browser.req('GET', `/api/sessions/${sessionId}`)).status).toBe(404);

    // Another browser, a guest who passed something else and has a sandbox, signs in by email.
    const laptop = new TestClient(server.url);
    const laptopGuest = (await me(laptop)).user;
    await server.store.ensureGuest(laptopGuest.id);
    await server.store.recordAttempt(laptopGuest.id, 'hello-exited', 'container-lifecycle', pass(2));
    const laptopSession = await laptop.createSession();
    await server.sessions.destroy(sessionId);
    const inByEmail = await laptop.req<{ user: Me['user'] }>('POST', '/api/account/sign-in', {
      login: 'ada@example.org',
      password: 'analytical engine',
    });
    expect(inByEmail.body.user).toMatchObject({ id: guest.id, username: 'ada' });
    const merged = (await laptop.req<{ progress: { exercise: string }[] }>('GET', '/api/progress')).body.progress;
    expect(merged.map((p) => p.exercise).sort()).toEqual(['engine-facts', 'hello-exited']);
    expect((await laptop.req('GET', `/api/sessions/${laptopSession}`)).status).toBe(200);
    expect(await server.store.getUser(laptopGuest.id)).toBeUndefined();
  });

  it('says what is wrong: taken names, short passwords, bad sign-ins', async () => {
    const c = new TestClient(server.url);
    await c.req('POST', '/api/account/sign-up', { username: 'grace', password: 'cobol rules ok' });
    const taken = await new TestClient(server.url).req<ErrorReply>('POST', '/api/account/sign-up', {
      username: 'Grace',
      password: 'another good one',
    });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'USERNAME_TAKEN']);
    const short = await new TestClient(server.url).req<ErrorReply>('POST', '/api/account/sign-up', {
      username: 'shorty',
      password: 'abc',
    });
    expect([short.status, short.body.error.code]).toEqual([400, 'WEAK_PASSWORD']);
    const badName = await new TestClient(server.url).req<ErrorReply>('POST', '/api/account/sign-up', {
      username: 'no spaces please',
      password: 'long enough yes',
    });
    expect([badName.status, badName.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    const wrong = await new TestClient(server.url).req<ErrorReply>('POST', '/api/account/sign-in', {
      login: 'grace',
      password: 'not her password',
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'SIGN_IN_FAILED']);
    const nobody = await new TestClient(server.url).req<ErrorReply>('POST', '/api/account/sign-in', {
      login: 'nobody-at-all',
      password: 'whatever it is',
    });
    expect(nobody.body.error.code).toBe('SIGN_IN_FAILED');
  });

  it('changes a password: the old one stops working, the new one works', async () => {
    const c = new TestClient(server.url);
    await c.req('POST', '/api/account/sign-up', { username: 'linus', password: 'first password' });
    const wrong = await c.req<ErrorReply>('POST', '/api/account/password', {
      currentPassword: 'not it at all',
      newPassword: 'second password',
    });
    expect(wrong.body.error.code).toBe('WRONG_PASSWORD');
    const ok = await c.req('POST', '/api/account/password', {
      currentPassword: 'first password',
      newPassword: 'second password',
    });
    expect(ok.status).toBe(200);
    expect((await me(c)).user).toMatchObject({ username: 'linus', guest: false });
    const old = await new TestClient(server.url).req('POST', '/api/account/sign-in', {
      login: 'linus',
      password: 'first password',
    });
    expect(old.status).toBe(401);
    const fresh = await new TestClient(server.url).req('POST', '/api/account/sign-in', {
      login: 'linus',
      password: 'second password',
    });
    expect(fresh.status).toBe(200);
    const guest = await new TestClient(server.url).req<ErrorReply>('POST', '/api/account/password', {
      currentPassword: 'x',
      newPassword: 'yyyyyyyyyy',
    });
    expect(guest.body.error.code).toBe('SIGN_IN_REQUIRED');
  });

  it('refuses a change that carries cookies but not the CSRF token', async () => {
    const c = new TestClient(server.url);
    await me(c);
    const forged = await fetch(`${server.url}/api/sessions`, {
      method: 'POST',
      headers: { cookie: c.cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as ErrorReply).error.code).toBe('CSRF_FAILED');
    const wrongToken = await fetch(`${server.url}/api/account/sign-out`, {
      method: 'POST',
      headers: { cookie: c.cookie, 'x-csrf-token': 'guessed' },
    });
    expect(wrongToken.status).toBe(403);
    // Without cookies there is nothing to forge: no token needed.
    const bare = await fetch(`${server.url}/api/account/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'nobody', password: 'nothing here' }),
    });
    expect(bare.status).toBe(401);
  });

  it('gates workshops and admin by role; DOCKYARD_ADMINS names the admins', async () => {
    const guest = new TestClient(server.url);
    const visitor = (await me(guest)).user;
    // A visitor is a guest, but nothing is stored for one until there is something to keep.
    expect(await server.store.getUser(visitor.id)).toBeUndefined();
    await server.store.ensureGuest(visitor.id);
    const asGuest = await guest.req<ErrorReply>('GET', '/api/workshops');
    expect([asGuest.status, asGuest.body.error.code]).toEqual([401, 'SIGN_IN_REQUIRED']);

    const learner = new TestClient(server.url);
    await learner.req('POST', '/api/account/sign-up', { username: 'margaret', password: 'apollo guidance' });
    expect((await learner.req<ErrorReply>('GET', '/api/workshops')).body.error.code).toBe('FORBIDDEN');
    expect((await learner.req<ErrorReply>('GET', '/api/admin/overview')).body.error.code).toBe('FORBIDDEN');

    const root = new TestClient(server.url);
    const up = await root.req<{ user: Me['user'] }>('POST', '/api/account/sign-up', {
      username: 'root',
      password: 'the admin one',
    });
    expect(up.body.user.role).toBe('admin');
    const overview = await root.req<{ users: { id: string; username: string | null }[]; capacity: object }>(
      'GET',
      '/api/admin/overview',
    );
    expect(overview.status).toBe(200);
    expect(overview.body.capacity).toMatchObject({ capacity: expect.any(Number) });
    // Accounts are listed; guests (the earlier tests' browsers) are only counted.
    expect(overview.body.users.every((u) => u.username !== null)).toBe(true);
    expect((overview.body as unknown as { guests: number }).guests).toBeGreaterThan(0);
    const margaret = overview.body.users.find((u) => u.username === 'margaret')!;
    const promoted = await root.req<{ user: Me['user'] }>('POST', `/api/admin/users/${margaret.id}/role`, {
      role: 'instructor',
    });
    expect(promoted.body.user.role).toBe('instructor');
    expect((await learner.req('GET', '/api/workshops')).status).toBe(200);

    // Margaret forgot her password: the admin sets a one-time one, and her browsers are signed out.
    const reset = await root.req<{ password: string }>('POST', `/api/admin/users/${margaret.id}/password`);
    expect(reset.body.password).toMatch(/^[\w-]{12}$/);
    expect((await me(learner)).user.guest).toBe(true);
    const old = await new TestClient(server.url).req('POST', '/api/account/sign-in', {
      login: 'margaret',
      password: 'apollo guidance',
    });
    expect(old.status).toBe(401);
    expect(
      (await learner.req('POST', '/api/account/sign-in', { login: 'margaret', password: reset.body.password })).status,
    ).toBe(200);
    expect((await learner.req('POST', `/api/admin/users/${margaret.id}/password`)).status).toBe(403);

    // The admin sees a learner's session with its owner, and ends it.
    const sessionId = await learner.createSession();
    const listed = await root.req<{
      sessions: { id: string; owner: { username: string | null }; sandboxId: string }[];
    }>('GET', '/api/admin/overview');
    expect(listed.body.sessions).toContainEqual(
      expect.objectContaining({ id: sessionId, owner: expect.objectContaining({ username: 'margaret' }) }),
    );
    expect((await learner.req('DELETE', `/api/admin/sessions/${sessionId}`)).status).toBe(403);
    expect((await root.req('DELETE', `/api/admin/sessions/${sessionId}`)).status).toBe(200);
    expect((await learner.req('GET', `/api/sessions/${sessionId}`)).status).toBe(404);
    expect((await root.req<ErrorReply>('DELETE', `/api/admin/sessions/${sessionId}`)).body.error.code).toBe(
      'SESSION_NOT_FOUND',
    );
  });

  it('sends the browser to GitHub with the configured client id, when GitHub is set up', async () => {
    const c = new TestClient(server.url);
    expect((await me(c)).github).toBe(true);
    const r = await c.req('GET', '/api/account/github');
    expect(r.status).toBe(302);
    const location = new URL(r.headers.get('location')!);
    expect(location.origin).toBe('https://github.com');
    expect(location.searchParams.get('client_id')).toBe('Iv1.dockyardtest');
    expect(location.searchParams.get('redirect_uri')).toBe(`${server.config.publicUrl}/api/auth/callback/github`);
  });
});

describe('cookies', () => {
  it('are HttpOnly (but the CSRF token), SameSite, and Secure when the public URL is https', async () => {
    const https = await startTestServer({
      DOCKYARD_PUBLIC_URL: 'https://dockyard.example',
      DOCKYARD_ALLOWED_ORIGINS: 'http://dockyard.test',
    });
    try {
      const res = await fetch(`${https.url}/api/account/sign-up`, {
        method: 'POST',
        headers: { origin: 'http://dockyard.test', 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'secure', password: 'secure enough' }),
      });
      expect(res.status).toBe(200);
      const cookies = Object.fromEntries(
        res.headers.getSetCookie().map((c) => [c.slice(0, c.indexOf('=')), c.toLowerCase()] as const),
      );
      expect(Object.keys(cookies).sort()).toEqual(
        ['__Secure-dockyard.session_token', 'dockyard_csrf', 'dockyard_owner'].sort(),
      );
      for (const c of Object.values(cookies)) expect(c).toMatch(/; secure/);
      expect(cookies['__Secure-dockyard.session_token']).toMatch(/httponly/);
      expect(cookies['__Secure-dockyard.session_token']).toMatch(/samesite=lax/);
      expect(cookies.dockyard_owner).toMatch(/httponly/);
      expect(cookies.dockyard_csrf).not.toMatch(/httponly/);
      expect(cookies.dockyard_csrf).toMatch(/samesite=strict/);
    } finally {
      await https.stop();
    }
  });
});

describe('a fresh install without DOCKYARD_ADMINS', () => {
  let fresh: TestServer;
  beforeAll(async () => {
    fresh = await startTestServer();
  });
  afterAll(() => fresh?.stop());

  it('makes its first account the admin, and later ones learners', async () => {
    const host = await new TestClient(fresh.url).req<{ user: Me['user'] }>('POST', '/api/account/sign-up', {
      username: 'host',
      password: 'first one here',
    });
    expect(host.body.user.role).toBe('admin');
    const next = await new TestClient(fresh.url).req<{ user: Me['user'] }>('POST', '/api/account/sign-up', {
      username: 'second',
      password: 'second one here',
    });
    expect(next.body.user.role).toBe('learner');
  });
});
