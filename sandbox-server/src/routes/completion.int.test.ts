// Course completion through the real server: the caller's count, a page only once every exercise
// is passed and only for an account, and the public page built from the store alone: anyone can
// open it, a made-up id finds nothing, and it goes with the account.
import { loadExercises, outline } from '@dockyard/content';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionPage, MyCompletion } from '../protocol/api.ts';
import { startTestServer, TEST_ORIGIN, TestClient, type TestServer } from '../test-support/harness.ts';

type ErrorReply = { error: { code: string; detail?: string } };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const exercises = loadExercises();
const lessonOrder = outline.flatMap((m) => m.lessons.map((l) => l.slug));

/** Passes through the store, as grading would keep them (this test runs no solutions). */
async function pass(userId: string, ids: readonly string[]): Promise<void> {
  await server.store.ensureGuest(userId);
  for (const e of exercises.filter((x) => ids.includes(x.id))) {
    await server.store.recordAttempt(userId, e.id, e.lesson, { score: 1, maxScore: 1, passed: true, checks: [] });
  }
}

describe('course completion', () => {
  it('gives a completion page once every exercise is passed, to an account, and anyone can open it', async () => {
    const learner = new TestClient(server.url);
    const me = (await learner.req<{ user: { id: string } }>('GET', '/api/me')).body.user;
    const mine = () => learner.req<MyCompletion>('GET', '/api/completion');
    expect((await mine()).body).toEqual({ exercises: exercises.length, passed: 0, guest: true, completion: null });

    // One exercise to go: no page yet, and the reason says how many are left.
    const [last, ...rest] = exercises.map((e) => e.id);
    await pass(me.id, rest);
    expect((await mine()).body).toMatchObject({ passed: exercises.length - 1, completion: null });
    const early = await learner.req<ErrorReply>('POST', '/api/completion');
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({
      code: 'COURSE_NOT_COMPLETE',
      detail: `1 exercise of ${exercises.length} to go.`,
    });

    // Every one passed, as a guest: an account first (signing up keeps the progress).
    await pass(me.id, [last!]);
    const guest = await learner.req<ErrorReply>('POST', '/api/completion');
    expect(guest.status).toBe(401);
    expect(guest.body.error.code).toBe('SIGN_IN_REQUIRED');
    const signUp = await learner.req('POST', '/api/account/sign-up', {
      username: `finisher-${randomBytes(3).toString('hex')}`,
      password: 'a long enough password',
      displayName: 'Fin Isher',
    });
    expect(signUp.status).toBe(200);
    expect((await mine()).body).toEqual({
      exercises: exercises.length,
      passed: exercises.length,
      guest: false,
      completion: null,
    });

    const made = await learner.req<MyCompletion>('POST', '/api/completion');
    expect(made.status).toBe(201);
    const { id, url } = made.body.completion!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(url).toBe(`${TEST_ORIGIN}/completion/?id=${id}`);
    const again = await learner.req<MyCompletion>('POST', '/api/completion');
    expect(again.status).toBe(200);
    expect(again.body.completion?.id).toBe(id);
    expect((await mine()).body.completion?.id).toBe(id);

    // Anyone, without cookies: the page, from the store.
    const visitor = new TestClient(server.url);
    const page = await visitor.req<CompletionPage>('GET', `/api/completions/${id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toMatchObject({
      learner: { displayName: 'Fin Isher' },
      complete: true,
      exercises: exercises.length,
      passed: exercises.length,
    });
    const listed = page.body.lessons.flatMap((l) => l.exercises.map((e) => ({ ...e, lesson: l.slug })));
    expect(listed.map((e) => e.id).sort()).toEqual(exercises.map((e) => e.id).sort());
    expect(listed.every((e) => typeof e.passedAt === 'number')).toBe(true);
    expect(page.body.completedAt).toBe(Math.max(...listed.map((e) => e.passedAt!)));
    const order = page.body.lessons.map((l) => lessonOrder.indexOf(l.slug));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(visitor.cookies.size).toBe(0);
  });

  it('finds nothing at an id the store does not know, and nothing once the account is deleted', async () => {
    const learner = new TestClient(server.url);
    await learner.req('POST', '/api/account/sign-up', {
      username: `leaver-${randomBytes(3).toString('hex')}`,
      password: 'a long enough password',
    });
    const me = (await learner.req<{ user: { id: string } }>('GET', '/api/me')).body.user;
    await pass(
      me.id,
      exercises.map((e) => e.id),
    );
    const { id } = (await learner.req<MyCompletion>('POST', '/api/completion')).body.completion!;
    const visitor = new TestClient(server.url);
    const open = (x: string) => visitor.req<ErrorReply>('GET', `/api/completions/${encodeURIComponent(x)}`);
    expect((await open(id)).status).toBe(200);

    // Made up, the learner's own id, the id altered, or with a name in the link: never a page.
    for (const forged of [
      randomBytes(16).toString('base64url'),
      me.id,
      `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`,
      'x'.repeat(64),
    ]) {
      const r = await open(forged);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('COMPLETION_NOT_FOUND');
    }
    const named = await visitor.req<CompletionPage>('GET', `/api/completions/${id}?name=Someone%20Else`);
    expect(named.body.learner.displayName).not.toBe('Someone Else');

    const { authId } = (await server.store.getUser(me.id))!;
    await server.store.db.deleteFrom('auth_user').where('id', '=', authId!).execute();
    const gone = await open(id);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('COMPLETION_NOT_FOUND');
  });
});
