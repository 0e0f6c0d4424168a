// Two servers behind nginx on one PostgreSQL, all real: a learner works through nginx, the server
// showing their terminal is killed with SIGKILL, and they carry on through the other one with the
// same sandbox and the same shells. Passes reach an instructor on the other server, rate limits
// count across both, the reaper and the warm pool run once and move to the survivor, and a
// PostgreSQL restart is survived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard, DashboardServerMessage } from './protocol/dashboard.ts';
import { REAPER_LEASE } from './sessions/session-manager.ts';
import { openDatabase, type Database } from './store/database.ts';
import { Store } from './store/store.ts';
import { startDeployment, type Deployment } from './test-support/deployment.ts';
import { TestClient, type TestSocket } from './test-support/harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let deployment: Deployment;
let database: Database;

/** The warm pool's ready sandboxes (on the shelf, not taken). */
const onShelf = async () =>
  (await new Store(database.db).warmShelf.list()).filter((r) => r.takenAt === undefined).map((r) => r.id);
const holder = async () => (await new Store(database.db).leases.current(REAPER_LEASE))?.holder;
const latestGrid = (messages: DashboardServerMessage[]) =>
  messages.filter((m): m is Dashboard => m.type === 'dashboard').at(-1);

beforeAll(async () => {
  deployment = await startDeployment({
    replicas: 2,
    env: { DOCKYARD_WARM_POOL_SIZE: '1', DOCKYARD_SANDBOX_CREATE_LIMIT: '2', DOCKYARD_ADMINS: 'boss' },
  });
  database = await openDatabase({ dataDir: deployment.dataDir, databaseUrl: deployment.pg.url });
});

afterAll(async () => {
  await database?.close();
  await deployment?.stop();
});

describe('two servers behind nginx on one PostgreSQL', () => {
  it('sends nobody to a server cut off from PostgreSQL, which stays alive and comes back by itself', async () => {
    const [r1, r2] = deployment.replicas as [Deployment['replicas'][0], Deployment['replicas'][0]];
    const status = async (url: string, path: string) => (await fetch(`${url}${path}`)).status;
    r2.cutDatabase();
    for (let i = 0; i < 60 && (await status(r2.url, '/readyz')) !== 504; i++) await sleep(100);
    expect(await status(r2.url, '/readyz')).toBe(504);
    expect(await status(r2.url, '/livez')).toBe(200);
    // Through nginx every request is answered, by r1: r2's refusals are asked again of r1, and r2
    // is left out meanwhile.
    const browser = new TestClient(deployment.url);
    for (let i = 0; i < 8; i++) {
      const r = await browser.req('GET', '/api/me');
      expect([r.status, r.headers.get('x-dockyard-replica')]).toEqual([200, r1.name]);
    }
    // PostgreSQL reachable again: r2 is ready within its next check, and nginx sends it learners again.
    r2.restoreDatabase();
    for (let i = 0; i < 60 && (await status(r2.url, '/readyz')) !== 200; i++) await sleep(100);
    expect(await status(r2.url, '/readyz')).toBe(200);
    // nginx tries a server it left out again after 5 s (fail_timeout); on a loaded machine, later.
    const served = new Set<string | null>();
    for (const until = Date.now() + 30_000; Date.now() < until && !served.has(r2.name);) {
      const r = await browser.req('GET', '/api/me');
      expect(r.status).toBe(200);
      served.add(r.headers.get('x-dockyard-replica'));
      await sleep(100);
    }
    expect(served).toContain(r2.name);
  });

  it('keeps a learner working when their server is killed, with one reaper, one pool and shared limits', async () => {
    // One warm pool for the deployment, run by the first server (which took the reaper's lease).
    expect(await holder()).toBe('r1');
    for (let i = 0; i < 100 && (await onShelf()).length < 1; i++) await sleep(100);
    await sleep(1500);
    expect(await onShelf()).toHaveLength(1);

    // An instructor's workshop, made through nginx.
    const boss = new TestClient(deployment.url);
    await boss.req('POST', '/api/account/sign-up', { username: 'boss', password: 'the boss password' });
    const teacher = new TestClient(deployment.url);
    const t = await teacher.req<{ user: { id: string } }>('POST', '/api/account/sign-up', {
      username: 'teach',
      password: 'teaching is fun',
      displayName: 'Ms Teach',
    });
    await boss.req('POST', `/api/admin/users/${t.body.user.id}/role`, { role: 'instructor' });
    const created = await teacher.req<{ workshop: { id: string; code: string } }>('POST', '/api/workshops', {
      title: 'Replicas',
      lessons: ['architecture'],
      startsAt: Date.now() - 60_000,
      endsAt: Date.now() + 3_600_000,
      // One seat, Lee's: the warm pool grows by a sandbox per free seat of a running workshop.
      seatLimit: 1,
    });
    expect(created.status).toBe(201);
    const { id: workshopId, code } = created.body.workshop;

    // The learner joins and works through nginx; their terminal is on r1 (the one to be killed).
    const learner = new TestClient(deployment.url);
    expect((await learner.req('POST', `/api/workshops/join/${code}`, { displayName: 'Lee' })).status).toBe(200);
    const sessionId = await learner.createSession();
    let ws: TestSocket | undefined;
    for (let i = 0; i < 8 && ws?.replica !== 'r1'; i++) {
      await ws?.close();
      // nginx takes turns, and a connection is two requests (its ticket, then the socket): one
      // more request in between lets the socket land on the other server.
      if (ws) await learner.req('GET', '/api/me');
      ws = await learner.connect(sessionId);
    }
    expect(ws!.replica).toBe('r1');
    await ws!.open('t');
    await ws!.run('t', 'echo "kept-$((20+3))" shell-$$', /kept-23 shell-\d+/);
    const shell = /shell-(\d+)/.exec(ws!.output('t'))![1];
    // The answers to the lesson's exercise, as the learner would write them.
    await ws!.run(
      't',
      "docker version --format '{{.Server.Version}}' > server-version.txt; echo overlay2 > storage-driver.txt; echo saved-$((1+1))",
      /saved-2/,
    );
    ws!.send({ type: 'input', term: 't', data: 'sleep 600\r' });

    // The instructor watches the class on r2: a pass graded on r1 reaches it within a second.
    const [r1, r2] = deployment.replicas as [Deployment['replicas'][0], Deployment['replicas'][0]];
    const dash = await teacher.at(r2.url).dashboard(workshopId);
    await dash.waitFor((m) => m.type === 'dashboard');
    ws!.send({ type: 'grade', exercise: 'engine-facts' });
    await ws!.waitFor((m) => m.type === 'grade' && m.report.passed);
    const passedAt = Date.now();
    await dash.until(
      () => latestGrid(dash.messages)?.learners[0]?.cells['engine-facts']?.status === 'passed',
      1_000,
      "the pass on the other server's dashboard",
    );
    expect(Date.now() - passedAt).toBeLessThan(1_000);

    // The instructor watches the learner's terminal from r2 (it runs under r1): the learner is
    // told, and the instructor sees what they type.
    const lee = latestGrid(dash.messages)!.learners[0]!.id;
    dash.send({ type: 'watch', learner: lee });
    await dash.waitFor((m) => m.type === 'watch' && m.state === 'started');
    await ws!.waitFor((m) => m.type === 'watched' && m.watching && m.by === 'Ms Teach');
    await dash.until(() => /kept-23/.test(dash.output('t')), 10_000, "the watched terminal's scrollback");
    // A second page of the learner's, connecting to r1 meanwhile, is told too.
    const otherPage = await learner.at(r1.url).connect(sessionId);
    await otherPage.waitFor((m) => m.type === 'watched' && m.watching && m.by === 'Ms Teach', 5_000);
    await otherPage.close();

    // The sandbox-creation limit (2 an hour from this address) counts on both servers alike. And
    // r2, which does not run the pool, takes its new session's sandbox from it all the same; r1
    // starts another in its place.
    for (let i = 0; i < 200 && (await onShelf()).length < 1; i++) await sleep(100);
    const shelved = await onShelf();
    const fromPool = async () =>
      Number(
        /^dockyard_sessions_created_total\{source="pool"\} (\d+)$/m.exec(
          await fetch(`${r2.url}/metrics`).then((r) => r.text()),
        )?.[1] ?? 0,
      );
    const before = await fromPool();
    const second = new TestClient(r2.url);
    expect((await second.req('POST', '/api/sessions', {})).status).toBe(201);
    expect(await fromPool()).toBe(before + 1);
    for (let i = 0; i < 200 && (await onShelf()).filter((id) => !shelved.includes(id)).length < 1; i++)
      await sleep(100);
    expect((await onShelf()).filter((id) => !shelved.includes(id))).toHaveLength(1);
    const third = await new TestClient(r1.url).req<{ error: { code: string } }>('POST', '/api/sessions', {});
    expect([third.status, third.body.error.code]).toEqual([429, 'RATE_LIMITED']);

    // r1 dies mid-lesson.
    await r1.kill();
    const killedAt = Date.now();
    await ws!.until(() => ws!.closeCode !== undefined, 5_000, 'the socket to close');

    // The page reconnects through nginx, which now sends it to r2: the same shell, its scrollback
    // (a replay) and its sleep still in the foreground.
    const again = await learner.connect(sessionId);
    expect(again.replica).toBe('r2');
    expect(await again.open('t')).toBe(true);
    // Still watched from r2, and told so on reconnecting.
    await again.waitFor((m) => m.type === 'watched' && m.watching && m.by === 'Ms Teach', 5_000);
    await again.until(() => /kept-23/.test(again.output('t')), 10_000, 'the scrollback');
    await again.open('t2');
    expect(await again.run('t2', 'pgrep -a sleep; echo looked', /\nlooked\r\n/)).toMatch(/sleep 600/);
    again.send({ type: 'input', term: 't', data: '\u0003' });
    await sleep(300);
    expect(await again.run('t', 'echo "again-$$"', /again-\d+/)).toContain(`again-${shell}`);
    // The instructor, whose server lived, never stopped seeing the terminal.
    await dash.until(() => /again-\d+/.test(dash.output('t')), 10_000, 'the watched terminal after the switch');
    again.send({ type: 'grade', exercise: 'engine-facts' });
    await again.waitFor((m) => m.type === 'grade' && m.report.passed);

    // The reaper and the pool move to r2 within 30 s: the pool's sandbox is adopted, not doubled,
    // and nothing of the deployment is removed that a session holds.
    while ((await holder()) !== 'r2' && Date.now() - killedAt < 30_000) await sleep(250);
    expect(await holder()).toBe('r2');
    await sleep(1500);
    expect(await onShelf()).toHaveLength(1);
    // The two sessions' sandboxes and the ready one: nothing more (leaked), nothing less (reaped).
    expect(await deployment.sandboxes()).toHaveLength(3);

    // PostgreSQL restarts: r2 says it is not ready meanwhile (nginx sends nobody), stays alive,
    // and comes back with nothing lost.
    await deployment.pg.halt();
    const ready = async () => (await fetch(`${r2.url}/readyz`)).status;
    for (let i = 0; i < 100 && (await ready()) !== 504; i++) await sleep(100);
    expect(await ready()).toBe(504);
    expect((await fetch(`${r2.url}/livez`)).status).toBe(200);
    await deployment.pg.resume();
    for (let i = 0; i < 150 && (await ready()) !== 200; i++) await sleep(100);
    expect(await ready()).toBe(200);
    expect(await again.run('t', 'echo "after-restart-$((2*2))"', /after-restart-4/)).toContain('after-restart-4');
    // nginx left r2 out while it refused (5 s each time), and takes it back after.
    const view = async () => learner.req<{ session?: { id: string } }>('GET', `/api/sessions/${sessionId}`);
    let seen = await view();
    for (const until = Date.now() + 20_000; seen.status !== 200 && Date.now() < until; seen = await view())
      await sleep(250);
    expect(seen.body.session?.id).toBe(sessionId);
    await again.close();
    await dash.close();
  });
});
