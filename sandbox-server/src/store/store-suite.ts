// The store's contract, run against each database by its own test file (SQLite and PostgreSQL).
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMPLETION_ID } from './completions.ts';
import type { Database } from './database.ts';
import { migrate, migrations } from './migrate.ts';
import { isUniqueViolation, Store, type AttemptResult } from './store.ts';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importSessionsFile, tableSessionStore, type SessionRecord } from '../sessions/session-store.ts';
import { RateLimiter } from '../identity/rate-limit.ts';
import type { RateEvents } from './rate-events.ts';
import { Leases } from './leases.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { MAX_PAYLOAD_BYTES } from './notifications.ts';
import { getMigrations } from 'better-auth/db/migration';
import { authOptions, createAuth } from '../identity/accounts.ts';
import { loadConfig } from '../config.ts';

/** Opens the same database each time it is called (migrated); closing one must not lose data. */
export type OpenDatabase = () => Promise<Database>;

const result = (score: number, maxScore: number): AttemptResult => ({
  score,
  maxScore,
  passed: score === maxScore,
  checks: [{ id: 'runs', status: score === maxScore ? 'passed' : 'failed' }],
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Registers the store's tests for the database `open()` gives. */
export function storeSuite(name: string, open: OpenDatabase): void {
  describe(`Store: ${name}`, () => {
    let database: Database;
    let store: Store;
    let clock = 1_750_000_000_000;
    const now = () => clock;

    beforeAll(async () => {
      database = await open();
      store = new Store(database.db, now);
    });
    afterAll(() => database?.close());

    const reopen = async () => {
      await database.close();
      database = await open();
      store = new Store(database.db, now);
    };

    it('migrates, and migrating again changes nothing', async () => {
      expect(await migrate(database.db)).toEqual([]);
      expect(await migrate(database.db)).toEqual([]);
      const tables = (await database.db.introspection.getTables()).map((t) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining([
          'users',
          'progress',
          'workshops',
          'workshop_members',
          'completions',
          'sessions',
          'rate_events',
          'leases',
          'broadcasts',
        ]),
      );
      expect(Object.keys(migrations)).toEqual([
        '0001-initial',
        '0002-accounts',
        '0003-completions',
        '0004-sessions',
        '0005-rate-events',
        '0006-leases',
        '0007-broadcasts',
        '0008-one-session-per-owner',
        '0009-warm-shelf',
      ]);
    });

    it('keeps sessions across a reopen: new and changed ones written, gone ones removed, sessions.json moved in once', async () => {
      const session = (id: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
        id,
        ownerId: unique('owner'),
        sandboxId: unique('sbx'),
        createdAt: clock,
        lastActivityAt: clock,
        expiresAt: clock + 3_600_000,
        ...extra,
      });
      const byId = (rs: SessionRecord[]) => [...rs].sort((x, y) => x.id.localeCompare(y.id));
      const mine = (all: SessionRecord[], ids: string[]) => byId(all.filter((r) => ids.includes(r.id)));
      const [a, b, c] = [unique('s'), unique('s'), unique('s')];
      const table = tableSessionStore(store.sessions);
      const first = [session(a, { lesson: 'first-container' }), session(b)];
      for (const r of first) expect(await table.claim(r)).toBeUndefined();
      // b gains nodes and a peer network; a goes; c comes; activity only moves on.
      const second = [
        { ...first[1]!, nodes: [{ name: 'node2', sandboxId: unique('sbx') }], peered: true, lastActivityAt: clock + 5 },
        session(c),
      ];
      await table.put(second[0]!);
      await table.remove(a);
      await table.claim(second[1]!);
      await table.touch(b, clock + 9);
      await table.touch(b, clock + 7);
      second[0]!.lastActivityAt = clock + 9;
      expect(await table.get(b)).toEqual(second[0]);
      expect(await table.get(a)).toBeUndefined();
      await reopen();
      expect(mine(await store.sessions.all(), [a, b, c])).toEqual(byId(second));

      // A server that kept its sessions in sessions.json: they move in, the file goes, and a second
      // start finds nothing to move (a session the table already has is kept as it is).
      const dir = mkdtempSync(join(tmpdir(), 'dockyard-sessions-'));
      try {
        const old = [session(unique('s')), { ...second[1]!, lesson: 'changed-in-file' }];
        writeFileSync(join(dir, 'sessions.json'), JSON.stringify(old));
        expect(await importSessionsFile(dir, store.sessions)).toBe(1);
        expect(existsSync(join(dir, 'sessions.json'))).toBe(false);
        expect(await importSessionsFile(dir, store.sessions)).toBe(0);
        const all = await store.sessions.all();
        expect(mine(all, [old[0]!.id, c])).toEqual(byId([old[0]!, second[1]!]));
        writeFileSync(join(dir, 'sessions.json'), '{not json');
        await expect(importSessionsFile(dir, store.sessions)).rejects.toThrow(/sessions.json could not be read/);
        expect(existsSync(join(dir, 'sessions.json')), 'a file that could not be read is kept').toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('records one session per owner, however many servers ask at once', async () => {
      // Other servers: connections of their own (PostgreSQL; SQLite is one process's store).
      const others = database.dialect === 'postgres' ? await Promise.all([open(), open(), open()]) : [database];
      try {
        const owner = unique('owner');
        const attempt = (db: Database, i: number) =>
          tableSessionStore(new Store(db.db, now).sessions).claim({
            id: unique(`s${i}`),
            ownerId: owner,
            sandboxId: '',
            createdAt: clock,
            lastActivityAt: clock,
            expiresAt: clock + 1,
          });
        const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(others[i % others.length]!, i)));
        // One claim made it; every other was told of that one.
        const won = answers.filter((a) => a === undefined);
        expect(won).toHaveLength(1);
        const recorded = (await store.sessions.all()).filter((r) => r.ownerId === owner);
        expect(recorded).toHaveLength(1);
        for (const a of answers) if (a) expect(a.id).toBe(recorded[0]!.id);
      } finally {
        if (database.dialect === 'postgres') await Promise.all(others.map((o) => o.close()));
      }
    });

    it('shelves warm sandboxes for every server: each taken once, removed only while ready, forgotten after', async () => {
      const others = database.dialect === 'postgres' ? await Promise.all([open(), open()]) : [database];
      try {
        const shelf = store.warmShelf;
        const ids = Array.from({ length: 6 }, (_, i) => unique(`warm${i}`));
        for (const id of ids.slice(0, 5)) await shelf.add(id);
        // Servers taking at once never get the same sandbox.
        const takers = others.map((o) => new Store(o.db, now).warmShelf);
        const taken = await Promise.all(Array.from({ length: 4 }, (_, i) => takers[i % takers.length]!.take()));
        const got = taken.filter((t): t is string => t !== undefined);
        expect(new Set(got).size).toBe(got.length);
        expect(got.length).toBe(4);
        expect(got.every((t) => ids.includes(t))).toBe(true);
        const left = ids.slice(0, 5).filter((id) => !got.includes(id));
        // A taken one is not removed (its new session holds it); a ready one is.
        expect(await shelf.remove([got[0]!, left[0]!])).toEqual([left[0]]);
        expect(await shelf.take()).toBeUndefined();
        const rows = await shelf.list();
        expect(rows.filter((r) => ids.includes(r.id)).map((r) => r.takenAt !== undefined)).toEqual(got.map(() => true));
        // The reaper forgets taken rows after a while, and rows of sandboxes that are gone.
        await shelf.add(ids[5]!);
        clock += 60_000;
        await shelf.forget(clock - 1, [ids[5]!]);
        expect((await shelf.list()).filter((r) => ids.includes(r.id))).toEqual([]);
      } finally {
        if (database.dialect === 'postgres') await Promise.all(others.map((o) => o.close()));
      }
    });

    it('counts rate-limited events for every server that shares the database, never past the limit', async () => {
      // A second server: its own connection (PostgreSQL; SQLite is one process's store).
      const other = database.dialect === 'postgres' ? await open() : database;
      try {
        const bucket = unique('bucket');
        const limiter = (events: RateEvents) => new RateLimiter(3, 60_000, { events, bucket, now });
        const [a, b] = [limiter(store.rateEvents), limiter(new Store(other.db, now).rateEvents)];
        expect(await a.take('10.0.0.1')).toEqual({ ok: true });
        expect(await b.take('10.0.0.1')).toEqual({ ok: true });
        expect(await b.peek('10.0.0.1')).toEqual({ ok: true });
        expect(await a.take('10.0.0.2')).toEqual({ ok: true });
        // Both servers at once for the last place: one gets it.
        const raced = await Promise.all([a, b, a, b].map((l) => l.take('10.0.0.1')));
        expect(raced.filter((t) => t.ok)).toHaveLength(1);
        expect(await a.peek('10.0.0.1')).toEqual({ ok: false, retryAfterSeconds: 60 });
        clock += 60_001;
        expect(await b.take('10.0.0.1')).toEqual({ ok: true });
      } finally {
        if (other !== database) await other.close();
      }
    });

    it('gives a lease to one holder at a time: servers racing for it, renewals, expiry and release', async () => {
      const other = database.dialect === 'postgres' ? await open() : database;
      try {
        const [mine, theirs] = [store.leases, new Store(other.db, now).leases];
        const name = unique('lease');
        expect(await mine.current(name)).toBeUndefined();
        // Both servers at once, for a lease nobody has: one gets it.
        const raced = await Promise.all([mine, theirs, mine, theirs].map((l, i) => l.acquire(name, `h${i}`, 1000)));
        expect(raced.filter(Boolean)).toHaveLength(1);
        const winner = `h${raced.indexOf(true)}`;
        expect(await theirs.current(name)).toEqual({ holder: winner, until: clock + 1000 });

        // Until it runs out, only its holder gets it (a renewal).
        clock += 999;
        expect(await theirs.acquire(name, 'someone', 1000)).toBe(false);
        expect(await theirs.acquire(name, winner, 1000)).toBe(true);
        expect(await mine.current(name)).toEqual({ holder: winner, until: clock + 1000 });
        // Run out (until <= now): anyone gets it, and again only one of those racing.
        clock += 1000;
        const again = await Promise.all([mine, theirs, mine, theirs].map((l, i) => l.acquire(name, `late${i}`, 500)));
        expect(again.filter(Boolean)).toHaveLength(1);
        const late = `late${again.indexOf(true)}`;
        expect(await mine.acquire(name, winner, 500)).toBe(false);

        // Only its holder gives it up.
        await theirs.release(name, winner);
        expect((await mine.current(name))?.holder).toBe(late);
        await theirs.release(name, late);
        expect(await mine.current(name)).toBeUndefined();
        expect(await mine.acquire(name, winner, 500)).toBe(true);
      } finally {
        if (other !== database) await other.close();
      }
    });

    it('keeps a lease on one server, and hands it to another when the first stops', async () => {
      const other = database.dialect === 'postgres' ? await open() : database;
      const name = unique('keeper');
      const events: string[] = [];
      // The real clock: the keepers' timers run in real time.
      const keeper = (holder: string, leases: Leases) =>
        new LeaseKeeper({
          leases,
          name,
          holder,
          ttlMs: 1000,
          renewMs: 100,
          onGain: () => void events.push(`${holder} gained`),
          onLoss: () => void events.push(`${holder} lost`),
        });
      const one = keeper('one', new Leases(database.db));
      const two = keeper('two', new Leases(other.db));
      try {
        one.start();
        await vi.waitFor(() => expect(one.held).toBe(true));
        two.start();
        await new Promise((r) => setTimeout(r, 400));
        expect([one.held, two.held]).toEqual([true, false]);
        await one.stop();
        await vi.waitFor(() => expect(two.held).toBe(true), { timeout: 2000 });
        expect(events).toEqual(['one gained', 'one lost', 'two gained']);
        await two.stop();
        expect(await new Leases(database.db).current(name)).toBeUndefined();
      } finally {
        await one.stop();
        await two.stop();
        if (other !== database) await other.close();
      }
    });

    it('notifies every server that shares the database, the publisher too, until they unsubscribe', async () => {
      const other = await open();
      try {
        const [a, b] = [database.notifier, other.notifier];
        const channel = unique('test').replace('-', '_');
        const [toA, toB] = [[] as unknown[], [] as unknown[]];
        const offA = a.subscribe(channel, (p) => toA.push(p));
        const offB = b.subscribe(channel, (p) => toB.push(p));
        // A notifier's publish waits for its own subscriptions to take effect: once b hears
        // itself, it listens.
        await b.publish(channel, 'ready');
        await vi.waitFor(() => expect(toB).toEqual(['ready']));
        toA.length = 0;
        toB.length = 0;

        const payload = { learner: 'ann', passed: true, text: 'Grüße', list: [1, 2] };
        const sent = a.publish(channel, payload);
        expect(toA, 'delivered later, never inside publish').toEqual([]);
        await sent;
        await vi.waitFor(() => expect([toA, toB]).toEqual([[payload], [payload]]));

        // b unsubscribes: a still hears; b, which hears a later notification on another channel
        // (in order), did not get it.
        offB();
        const done: unknown[] = [];
        const offDone = b.subscribe(`${channel}_done`, (p) => done.push(p));
        await b.publish(`${channel}_done`, 'sync'); // b listens to it
        await a.publish(channel, 2);
        await a.publish(`${channel}_done`, 'after');
        await vi.waitFor(() => expect(done).toEqual(['sync', 'after']));
        await vi.waitFor(() => expect(toA).toEqual([payload, 2]));
        expect(toB).toEqual([payload]);
        offA();
        offDone();

        await expect(a.publish(channel, 'x'.repeat(MAX_PAYLOAD_BYTES))).rejects.toThrow(/over the 7900 bytes/);
        await expect(a.publish('Not A Channel', 1)).rejects.toThrow(/lower-case letters/);
      } finally {
        await other.close();
      }
    });

    it("keeps each workshop's last broadcast, for the learners with a seat in it, across a reopen", async () => {
      const teacher = await store.createUser({ username: unique('bt'), displayName: 'T', role: 'instructor' });
      const learner = await store.createUser({ username: unique('bl'), displayName: 'L' });
      const workshop = () =>
        store.createWorkshop({
          title: 'B',
          lessons: [],
          startsAt: clock,
          endsAt: clock + 1000,
          seatLimit: 5,
          ownerId: teacher.id,
        });
      const [w1, w2] = [await workshop(), await workshop()];
      await store.join(w1.id, learner.id, 'L');
      // Somebody else's seat in w2 does not show w2's broadcasts to the learner.
      const someone = await store.createUser({ username: unique('bo'), displayName: 'O' });
      await store.join(w2.id, someone.id, 'O');
      const sent = (w: string, text: string, at: number) => ({ workshopId: w, text, from: 'T', at });
      expect(await store.broadcasts.last(w1.id)).toBeUndefined();
      await store.broadcasts.put(sent(w1.id, 'first', clock));
      await store.broadcasts.put(sent(w1.id, 'second', clock + 1));
      await store.broadcasts.put(sent(w2.id, 'elsewhere', clock + 2));
      expect(await store.broadcasts.last(w1.id)).toEqual(sent(w1.id, 'second', clock + 1));
      expect(await store.broadcasts.recentFor(learner.id, clock)).toEqual([sent(w1.id, 'second', clock + 1)]);
      expect(await store.broadcasts.recentFor(learner.id, clock + 1), 'only those after `since`').toEqual([]);
      await store.join(w2.id, learner.id, 'L');
      await reopen();
      expect(await store.broadcasts.recentFor(learner.id, 0)).toEqual([
        sent(w1.id, 'second', clock + 1),
        sent(w2.id, 'elsewhere', clock + 2),
      ]);
    });

    it('creates users, finds them, and keeps usernames and emails unique', async () => {
      const username = unique('ada');
      const ada = await store.createUser({ username, displayName: 'Ada', email: `${username}@example.org` });
      expect(ada).toMatchObject({ username, displayName: 'Ada', role: 'learner', createdAt: clock });
      expect(await store.getUser(ada.id)).toEqual(ada);
      expect(await store.findUserByName(username)).toEqual(ada);
      expect(await store.findUserByName(unique('nobody'))).toBeUndefined();

      const sameName = store.createUser({ username, displayName: 'Other Ada' });
      await expect(sameName).rejects.toSatisfy(isUniqueViolation);
      const sameEmail = store.createUser({ username: unique('b'), displayName: 'B', email: `${username}@example.org` });
      await expect(sameEmail).rejects.toSatisfy(isUniqueViolation);
      // Any number of users may have no email.
      await store.createUser({ username: unique('c'), displayName: 'C' });
      await store.createUser({ username: unique('d'), displayName: 'D', role: 'instructor' });
    });

    it('counts attempts, keeps the best score and first and last completion, across a reopen', async () => {
      const user = await store.createUser({ username: unique('grace'), displayName: 'Grace' });
      clock += 1000;
      let p = await store.recordAttempt(user.id, 'first-container', 'containers', result(1, 3));
      expect(p).toMatchObject({
        attempts: 1,
        bestScore: 1,
        maxScore: 3,
        firstCompletedAt: null,
        lastCompletedAt: null,
      });
      const firstPass = (clock += 1000);
      p = await store.recordAttempt(user.id, 'first-container', 'containers', result(3, 3));
      expect(p).toMatchObject({ attempts: 2, bestScore: 3, firstCompletedAt: firstPass, lastCompletedAt: firstPass });
      clock += 1000;
      p = await store.recordAttempt(user.id, 'first-container', 'containers', result(2, 3));
      expect(p).toMatchObject({ attempts: 3, bestScore: 3, firstCompletedAt: firstPass, lastCompletedAt: firstPass });
      expect(p.lastResult).toEqual(result(2, 3));
      const lastPass = (clock += 1000);
      p = await store.recordAttempt(user.id, 'first-container', 'containers', result(3, 3));
      expect(p).toMatchObject({
        attempts: 4,
        firstCompletedAt: firstPass,
        lastCompletedAt: lastPass,
        updatedAt: lastPass,
      });
      await store.recordAttempt(user.id, 'write-a-dockerfile', 'images', result(0, 2));

      await reopen();
      const all = await store.progressOf(user.id);
      expect(all.map((x) => x.exerciseId)).toEqual(['first-container', 'write-a-dockerfile']);
      expect(all[0]).toEqual(p);
      expect(await store.progressOfLesson(user.id, 'images')).toEqual([all[1]]);
      expect(await store.progressOfLesson(user.id, 'networks')).toEqual([]);
      expect(typeof all[0]?.firstCompletedAt).toBe('number');
    });

    it('keeps live progress without counting it as an attempt', async () => {
      const user = await store.createUser({ username: unique('live'), displayName: 'Live' });
      let p = await store.recordAttempt(user.id, 'ex', 'l', result(1, 3), false);
      expect(p).toMatchObject({ attempts: 0, bestScore: 1, firstCompletedAt: null });
      p = await store.recordAttempt(user.id, 'ex', 'l', result(3, 3), false);
      expect(p).toMatchObject({ attempts: 0, bestScore: 3, firstCompletedAt: clock });
      p = await store.recordAttempt(user.id, 'ex', 'l', result(2, 3));
      expect(p).toMatchObject({ attempts: 1, bestScore: 3 });
    });

    it('counts concurrent attempts without losing one', async () => {
      const user = await store.createUser({ username: unique('linus'), displayName: 'Linus' });
      await Promise.all(Array.from({ length: 5 }, (_, i) => store.recordAttempt(user.id, 'ex', 'l', result(i, 4))));
      const [p] = await store.progressOf(user.id);
      expect(p).toMatchObject({ attempts: 5, bestScore: 4 });
    });

    it('creates workshops with short unique codes and fills their seats up to the limit', async () => {
      const owner = await store.createUser({ username: unique('teach'), displayName: 'T', role: 'instructor' });
      const spec = {
        title: 'Docker day',
        lessons: ['containers', 'images'],
        startsAt: clock,
        endsAt: clock + 3_600_000,
      };
      const workshop = await store.createWorkshop({ ...spec, seatLimit: 2, ownerId: owner.id });
      expect(workshop.code).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
      expect(await store.findWorkshopByCode(` ${workshop.code.toLowerCase()} `)).toEqual(workshop);
      expect(await store.findWorkshopByCode('ZZZZZ1')).toBeUndefined();
      const other = await store.createWorkshop({ ...spec, seatLimit: 5, ownerId: owner.id });
      expect(other.code).not.toBe(workshop.code);

      const [a, b, c] = await Promise.all(
        ['a', 'b', 'c'].map((n) => store.createUser({ username: unique(n), displayName: n })),
      );
      await store.join(workshop.id, a!.id, 'Ann');
      clock += 1;
      await store.join(workshop.id, b!.id, 'Bob');
      // Joining again keeps the seat rather than taking another.
      expect(await store.join(workshop.id, a!.id, 'Ann again')).toMatchObject({ displayName: 'Ann' });
      await expect(store.join(workshop.id, c!.id, 'Cy')).rejects.toMatchObject({ code: 'WORKSHOP_FULL', status: 409 });
      await expect(store.join(randomUUID(), c!.id, 'Cy')).rejects.toMatchObject({ code: 'WORKSHOP_NOT_FOUND' });
      expect((await store.membersOf(workshop.id)).map((m) => m.displayName)).toEqual(['Ann', 'Bob']);
      await expect(store.createWorkshop({ ...spec, seatLimit: 0, ownerId: owner.id })).rejects.toThrow(/seatLimit/);
    });

    it('gives the last seats to exactly as many learners as there are, when they join at once', async () => {
      const owner = await store.createUser({ username: unique('teach'), displayName: 'T', role: 'instructor' });
      const w = await store.createWorkshop({
        title: 'Rush',
        lessons: [],
        startsAt: 0,
        endsAt: 1,
        seatLimit: 3,
        ownerId: owner.id,
      });
      const learners = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store.createUser({ username: unique(`l${i}`), displayName: `L${i}` })),
      );
      const joins = await Promise.allSettled(learners.map((l) => store.join(w.id, l.id, l.displayName)));
      expect(joins.filter((j) => j.status === 'fulfilled')).toHaveLength(3);
      for (const j of joins.filter((x) => x.status === 'rejected')) {
        expect(j.reason).toMatchObject({ code: 'WORKSHOP_FULL' });
      }
      expect(await store.membersOf(w.id)).toHaveLength(3);
    });

    it('keeps workshops and members across a reopen', async () => {
      const owner = await store.createUser({ username: unique('teach'), displayName: 'T', role: 'instructor' });
      const w = await store.createWorkshop({
        title: 'Kept',
        lessons: ['x'],
        startsAt: 1,
        endsAt: 2,
        seatLimit: 1,
        ownerId: owner.id,
      });
      await store.join(w.id, owner.id, 'Owner');
      await reopen();
      expect(await store.findWorkshopByCode(w.code)).toEqual(w);
      expect(await store.membersOf(w.id)).toHaveLength(1);
    });

    it('rolls a failed transaction back, leaving nothing behind', async () => {
      const username = unique('ghost');
      let ghostId = '';
      const failing = store.transaction(async (tx) => {
        const u = await tx.createUser({ username, displayName: 'Ghost' });
        ghostId = u.id;
        await tx.recordAttempt(u.id, 'ex', 'l', result(1, 1));
        expect(await tx.progressOf(u.id)).toHaveLength(1);
        throw new Error('changed my mind');
      });
      await expect(failing).rejects.toThrow('changed my mind');
      expect(ghostId).not.toBe('');
      expect(await store.findUserByName(username)).toBeUndefined();
      expect(await store.progressOf(ghostId)).toEqual([]);
    });

    it('refuses progress for a user who does not exist (foreign keys are on)', async () => {
      await expect(store.recordAttempt(randomUUID(), 'ex', 'l', result(1, 1))).rejects.toThrow();
    });

    const authConfig = loadConfig({});
    const key = Buffer.alloc(32, 7);

    it('has exactly the tables and columns better-auth asks for (its own schema diff finds nothing to do)', async () => {
      const { toBeCreated, toBeAdded } = await getMigrations(
        authOptions(database.db as never, database.dialect, authConfig, key),
      );
      expect(toBeCreated.map((t) => t.table)).toEqual([]);
      expect(toBeAdded.map((t) => `${t.table}: ${Object.keys(t.fields).join(', ')}`)).toEqual([]);
    });

    it('signs up and in through better-auth, and links the account to the guest who signed up', async () => {
      const auth = createAuth(database.db as never, database.dialect, authConfig, key);
      const username = unique('ada').toLowerCase();
      const signedUp = await auth.api.signUpEmail({
        body: { email: `${username}@example.org`, password: 'correct horse', name: 'Ada', username },
      });
      const guest = await store.ensureGuest(randomUUID());
      await store.recordAttempt(guest.id, 'first-run', 'container-lifecycle', result(2, 2));
      const linked = await store.linkAccount(guest.id, {
        authId: signedUp.user.id,
        username,
        email: `${username}@example.org`,
        displayName: 'Ada',
      });
      expect(linked).toMatchObject({ id: guest.id, authId: signedUp.user.id, username, displayName: 'Ada' });
      expect(await store.findUserByAuthId(signedUp.user.id)).toMatchObject({ id: guest.id });
      expect((await store.progressOf(guest.id)).map((p) => p.exerciseId)).toEqual(['first-run']);
      const signedIn = await auth.api.signInUsername({ body: { username, password: 'correct horse' } });
      expect(signedIn?.user.id).toBe(signedUp.user.id);
      await expect(auth.api.signInUsername({ body: { username, password: 'wrong horse' } })).rejects.toThrow();
      expect(await store.accountProfile(signedUp.user.id)).toMatchObject({ username, name: 'Ada' });
    });

    it('gives a learner one completion page at a random id, found only while they keep their account', async () => {
      const auth = createAuth(database.db as never, database.dialect, authConfig, key);
      const account = async (name: string) => {
        const username = unique(name).toLowerCase();
        const { user } = await auth.api.signUpEmail({
          body: { email: `${username}@example.org`, password: 'correct horse', name, username },
        });
        const guest = await store.ensureGuest(randomUUID());
        return store.linkAccount(guest.id, { authId: user.id, username, email: null, displayName: name });
      };
      const ada = await account('Ada');
      const bob = await account('Bob');
      expect(await store.completions.of(ada.id)).toBeUndefined();

      // Asked for at once, twice and more: one page.
      const made = await Promise.all([1, 2, 3].map(() => store.completions.issue(ada.id)));
      expect(new Set(made.map((c) => c.id)).size).toBe(1);
      const page = made[0]!;
      expect(page).toEqual({ id: expect.stringMatching(COMPLETION_ID), userId: ada.id, createdAt: clock });
      expect(Buffer.from(page.id, 'base64url')).toHaveLength(16);
      expect((await store.completions.issue(bob.id)).id).not.toBe(page.id);

      await reopen();
      expect(await store.completions.of(ada.id)).toEqual(page);
      expect(await store.completions.find(page.id)).toEqual({ completion: page, user: await store.getUser(ada.id) });
      // Only the store's ids lead anywhere: not a made-up one, not a user's own id, not another case.
      for (const id of [randomBytes(16).toString('base64url'), ada.id, page.id.toUpperCase(), '', "' or 1=1 --"]) {
        expect(await store.completions.find(id)).toBeUndefined();
      }

      // A guest's page is never found (the routes give guests none), nor one whose account is deleted.
      const guest = await store.ensureGuest(randomUUID());
      expect(await store.completions.find((await store.completions.issue(guest.id)).id)).toBeUndefined();
      await database.db.deleteFrom('auth_user').where('id', '=', ada.authId!).execute();
      expect(await store.completions.find(page.id)).toBeUndefined();
      const bobs = (await store.completions.of(bob.id))!;
      expect(await store.completions.find(bobs.id)).toMatchObject({ user: { id: bob.id } });
      await database.db.deleteFrom('users').where('id', '=', bob.id).execute();
      expect(await store.completions.find(bobs.id)).toBeUndefined();
      expect(await store.completions.of(bob.id)).toBeUndefined();
    });

    it("merges a guest's progress and seats into an account: best scores, summed attempts, earliest and latest passes", async () => {
      const account = await store.createUser({ username: unique('acct'), displayName: 'Acct' });
      const guest = await store.createUser({ username: unique('guest'), displayName: 'Guest' });
      clock += 1000;
      await store.recordAttempt(account.id, 'both', 'l', result(1, 3));
      await store.recordAttempt(account.id, 'mine', 'l', result(3, 3));
      clock += 1000;
      const guestPassAt = clock;
      await store.recordAttempt(guest.id, 'both', 'l', result(3, 3));
      await store.recordAttempt(guest.id, 'theirs', 'l', result(0, 2));
      const owner = await store.createUser({ username: unique('teach'), displayName: 'T', role: 'instructor' });
      const w = await store.createWorkshop({
        title: 'Merge',
        lessons: ['l'],
        startsAt: clock,
        endsAt: clock + 3_600_000,
        seatLimit: 5,
        ownerId: owner.id,
      });
      await store.join(w.id, guest.id, 'Guesty');

      await store.mergeGuestInto(guest.id, account.id);

      expect(await store.getUser(guest.id)).toBeUndefined();
      const merged = Object.fromEntries((await store.progressOf(account.id)).map((p) => [p.exerciseId, p]));
      expect(Object.keys(merged).sort()).toEqual(['both', 'mine', 'theirs']);
      expect(merged.both).toMatchObject({ bestScore: 3, attempts: 2, firstCompletedAt: guestPassAt });
      expect(merged.mine).toMatchObject({ bestScore: 3, attempts: 1 });
      expect(merged.theirs).toMatchObject({ bestScore: 0, firstCompletedAt: null });
      expect((await store.membersOf(w.id)).map((m) => [m.userId, m.displayName])).toEqual([[account.id, 'Guesty']]);
      expect((await store.workshopsJoinedBy(account.id)).map((x) => x.id)).toEqual([w.id]);
    });

    it("finds workshops by owner, by time and by member, and reads many learners' progress at once", async () => {
      const owner = await store.createUser({ username: unique('own'), displayName: 'O', role: 'instructor' });
      const base = clock + 10 * 3_600_000;
      const make = (startsAt: number) =>
        store.createWorkshop({
          title: `at ${startsAt}`,
          lessons: ['l'],
          startsAt,
          endsAt: startsAt + 3_600_000,
          seatLimit: 3,
          ownerId: owner.id,
        });
      const soon = await make(base + 10 * 60_000);
      const later = await make(base + 5 * 3_600_000);
      expect((await store.listWorkshops(owner.id)).map((w) => w.id)).toEqual([later.id, soon.id]);
      const around = (await store.workshopsAround(base, 15 * 60_000)).map((w) => w.id);
      expect(around).toContain(soon.id);
      expect(around).not.toContain(later.id);
      expect((await store.getWorkshop(soon.id))?.code).toBe(soon.code);
      const [a, b] = await Promise.all(
        ['a', 'b'].map((n) => store.createUser({ username: unique(n), displayName: n })),
      );
      await store.recordAttempt(a!.id, 'x', 'l', result(1, 1));
      await store.recordAttempt(b!.id, 'y', 'l', result(0, 1));
      const both = await store.progressOfUsers([a!.id, b!.id]);
      expect(both.map((p) => `${p.userId === a!.id ? 'a' : 'b'}:${p.exerciseId}`).sort()).toEqual(['a:x', 'b:y']);
      expect(await store.progressOfUsers([])).toEqual([]);
      expect((await store.setRole(a!.id, 'instructor'))?.role).toBe('instructor');
    });
  });
}
