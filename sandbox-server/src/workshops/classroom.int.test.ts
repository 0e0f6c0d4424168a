// A workshop through the real server: an instructor creates it, two learners join (a guest and an
// account), the dashboard's grid turns a cell green when a learner passes, the instructor watches a
// terminal (and the learner is told), broadcasts, extends everyone, exports CSV; after a restart on
// the same data folder the dashboard shows the same grid. And two servers' classrooms on one
// PostgreSQL, which tell each other of passes and broadcasts by LISTEN/NOTIFY.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard, DashboardServerMessage } from '../protocol/dashboard.ts';
import { WRONG_CODES_PER_10_MIN } from '../routes/workshops.ts';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';
import { answerEngineFacts } from '../test-support/answers.ts';
import { startPostgres, type PostgresServer } from '../test-support/postgres-server.ts';
import { openDatabase } from '../store/database.ts';
import { classroomReplicasSuite } from './classroom-replicas-suite.ts';

type ErrorReply = { error: { code: string } };
interface WorkshopReply {
  workshop: { id: string; code: string; joinUrl: string; members: number };
}

const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-workshop-'));
let server: TestServer | undefined;
afterAll(() => server?.stop());

const start = () => startTestServer({ DOCKYARD_DATA_DIR: dataDir, DOCKYARD_ADMINS: 'boss' });
const latestGrid = (messages: DashboardServerMessage[]) =>
  messages.filter((m): m is Dashboard => m.type === 'dashboard').at(-1);

describe('workshops', () => {
  it('runs a class: join by code, a live grid, watching, broadcast, extend, CSV, and a restart', async () => {
    server = await start();
    const boss = new TestClient(server.url);
    await boss.req('POST', '/api/account/sign-up', { username: 'boss', password: 'the boss password' });
    const teacher = new TestClient(server.url);
    const t = await teacher.req<{ user: { id: string } }>('POST', '/api/account/sign-up', {
      username: 'teach',
      password: 'teaching is fun',
      displayName: 'Ms Teach',
    });
    await boss.req('POST', `/api/admin/users/${t.body.user.id}/role`, { role: 'instructor' });

    const bad = await teacher.req<ErrorReply>('POST', '/api/workshops', {
      title: 'Docker day',
      lessons: ['no-such-lesson'],
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      seatLimit: 5,
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BAD_REQUEST']);
    const created = await teacher.req<WorkshopReply>('POST', '/api/workshops', {
      title: 'Docker day',
      lessons: ['architecture'],
      startsAt: Date.now() - 60_000,
      endsAt: Date.now() + 3_600_000,
      seatLimit: 5,
    });
    expect(created.status).toBe(201);
    const { id, code, joinUrl } = created.body.workshop;
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    expect(joinUrl).toBe(`${server.config.publicUrl}/join/?code=${code}`);

    // A guest joins with a name; an account joins under its own name.
    const guest = new TestClient(server.url);
    const info = await guest.req<{ workshop: { title: string; seatsLeft: number; instructor: string } }>(
      'GET',
      `/api/workshops/join/${code.toLowerCase()}`,
    );
    expect(info.body.workshop).toMatchObject({ title: 'Docker day', seatsLeft: 5, instructor: 'Ms Teach' });
    const nameless = await guest.req<ErrorReply>('POST', `/api/workshops/join/${code}`, {});
    expect([nameless.status, nameless.body.error.code]).toEqual([400, 'DISPLAY_NAME_REQUIRED']);
    expect((await guest.req('POST', `/api/workshops/join/${code}`, { displayName: 'Guest Gina' })).status).toBe(200);
    expect((await guest.req<{ user: { displayName: string } }>('GET', '/api/me')).body.user.displayName).toBe(
      'Guest Gina',
    );
    const member = new TestClient(server.url);
    await member.req('POST', '/api/account/sign-up', { username: 'max', password: 'max password' });
    expect((await member.req('POST', `/api/workshops/join/${code}`, {})).status).toBe(200);
    expect((await member.req<{ workshops: { code: string }[] }>('GET', '/api/me')).body.workshops).toEqual([
      expect.objectContaining({ code }),
    ]);
    // Full at two seats; the instructor raises the limit and the third learner gets in.
    const narrowed = await teacher.req<WorkshopReply & { workshop: { seatLimit: number } }>(
      'PATCH',
      `/api/workshops/${id}`,
      { seatLimit: 2 },
    );
    expect(narrowed.body.workshop).toMatchObject({ seatLimit: 2, members: 2 });
    const third = new TestClient(server.url);
    const full = await third.req<ErrorReply>('POST', `/api/workshops/join/${code}`, { displayName: 'Third' });
    expect([full.status, full.body.error.code]).toEqual([409, 'WORKSHOP_FULL']);
    expect((await member.req('PATCH', `/api/workshops/${id}`, { seatLimit: 50 })).status).toBe(403);
    const beforeStart = Date.now() - 120_000;
    const badEnd = await teacher.req<ErrorReply>('PATCH', `/api/workshops/${id}`, { endsAt: beforeStart });
    expect(badEnd.body.error.code).toBe('BAD_REQUEST');
    await teacher.req('PATCH', `/api/workshops/${id}`, { seatLimit: 3 });
    expect((await third.req('POST', `/api/workshops/join/${code}`, { displayName: 'Third' })).status).toBe(200);

    const unknown = await guest.req<ErrorReply>('POST', '/api/workshops/join/ZZZZZZ', { displayName: 'x' });
    expect(unknown.body.error.code).toBe('WORKSHOP_NOT_FOUND');
    // Guessing codes is slowed: after 100 unknown codes from one address, every lookup waits.
    for (let i = 1; i < WRONG_CODES_PER_10_MIN; i++) await guest.req('GET', `/api/workshops/join/ZZZZZ${i % 10}`);
    const guessing = await guest.req<ErrorReply>('GET', `/api/workshops/join/${code}`);
    expect([guessing.status, guessing.body.error.code]).toEqual([429, 'TOO_MANY_JOIN_TRIES']);
    expect(Number(guessing.headers.get('retry-after'))).toBeGreaterThan(500);

    // Only its instructor (or an admin) sees the dashboard.
    await expect(member.dashboard(id)).rejects.toThrow(/403/);
    const dash = await teacher.dashboard(id);
    const first = (await dash.waitFor((m) => m.type === 'dashboard')) as Dashboard;
    expect(first.exercises.map((e) => e.id)).toEqual(['engine-facts']);
    expect(first.learners.map((l) => l.displayName)).toEqual(['Guest Gina', 'max', 'Third']);
    expect(first.learners.every((l) => Object.keys(l.cells).length === 0 && !l.online)).toBe(true);
    const gina = first.learners[0]!.id;
    // A change to the workshop reaches the open dashboard.
    await teacher.req('PATCH', `/api/workshops/${id}`, { seatLimit: 4 });
    await dash.until(() => latestGrid(dash.messages)?.workshop.seatLimit === 4, 5_000, 'the new seat limit');

    // Gina passes the exercise: her cell turns green on the open dashboard.
    const sessionId = await guest.createSession();
    const socket = await guest.connect(sessionId);
    await socket.open('t1');
    await answerEngineFacts(server, guest, sessionId);
    const graded = await guest.req<{ report: { passed: boolean } }>('POST', `/api/sessions/${sessionId}/grade`, {
      exercise: 'engine-facts',
    });
    expect(graded.body.report.passed).toBe(true);
    await dash.until(
      () => latestGrid(dash.messages)?.learners[0]?.cells['engine-facts']?.status === 'passed',
      10_000,
      "Gina's cell to turn green",
    );
    expect(latestGrid(dash.messages)?.learners[0]?.online).toBe(true);

    // The instructor watches her terminal: sees what she types, and she is told.
    dash.send({ type: 'watch', learner: gina });
    await dash.waitFor((m) => m.type === 'watch' && m.state === 'started');
    await socket.waitFor((m) => m.type === 'watched' && m.watching && m.by === 'Ms Teach');
    await socket.run('t1', 'echo watched-$((6*7))', /watched-42/);
    await dash.until(() => /watched-42/.test(dash.output('t1')), 10_000, 'the watched output');
    // The watcher sees the learner's size, and follows a resize.
    expect(dash.messages).toContainEqual({ type: 'watch-size', learner: gina, term: 't1', cols: 80, rows: 24 });
    socket.send({ type: 'resize', term: 't1', cols: 132, rows: 40 });
    await dash.waitFor((m) => m.type === 'watch-size' && m.cols === 132 && m.rows === 40);
    dash.send({ type: 'watch', learner: null });
    await socket.waitFor((m) => m.type === 'watched' && !m.watching);
    // Max has no sandbox: nothing to watch, and the dashboard says so.
    dash.send({ type: 'watch', learner: latestGrid(dash.messages)!.learners[1]!.id });
    await dash.waitFor((m) => m.type === 'watch' && m.state === 'no-sandbox');

    const sent = await teacher.req<{ delivered: number }>('POST', `/api/workshops/${id}/broadcast`, {
      text: 'Break in 5 minutes',
    });
    expect(sent.body.delivered).toBe(1);
    await socket.waitFor((m) => m.type === 'broadcast' && m.text === 'Break in 5 minutes' && m.from === 'Ms Teach');
    const before = server.sessions.viewOf(sessionId)!.expiresAt;
    expect((await teacher.req<{ extended: number }>('POST', `/api/workshops/${id}/extend`)).body.extended).toBe(1);
    expect(server.sessions.viewOf(sessionId)!.expiresAt).toBeGreaterThan(before);
    expect((await member.req('POST', `/api/workshops/${id}/extend`)).status).toBe(403);

    const csv = await teacher.req<string>('GET', `/api/workshops/${id}/results.csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('learner,joined,passed,score,engine-facts');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['Guest Gina', 'max', 'Third']);
    expect(lines[1]).toMatch(/,1\/1,2,passed 2\/2$/);
    expect(lines[2]).toMatch(/,0\/1,0,$/);

    // A restart on the same data folder: the dashboard reconnects to the same grid.
    await socket.close();
    await dash.close();
    await server.stop();
    server = await start();
    const again = new TestClient(server.url);
    for (const [k, v] of teacher.cookies) again.cookies.set(k, v);
    const dash2 = await again.dashboard(id);
    const after = (await dash2.waitFor((m) => m.type === 'dashboard')) as Dashboard;
    expect(after.learners.map((l) => [l.displayName, l.cells['engine-facts']?.status ?? 'none'])).toEqual([
      ['Guest Gina', 'passed'],
      ['max', 'none'],
      ['Third', 'none'],
    ]);
    await dash2.close();
  });
});

describe('on PostgreSQL', () => {
  let pg: PostgresServer | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(() => pg?.stop());

  classroomReplicasSuite('PostgreSQL', () => {
    if (!pg) throw new Error('the PostgreSQL server did not start');
    return openDatabase({ dataDir: '/nonexistent', databaseUrl: pg.url });
  });
});
