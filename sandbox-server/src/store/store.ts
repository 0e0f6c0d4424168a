// Accounts, progress and workshops over Kysely: the same queries on SQLite and PostgreSQL.
import { randomInt, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { ApiError } from '../errors.ts';
import { Broadcasts } from './broadcasts.ts';
import { Completions } from './completions.ts';
import { Leases } from './leases.ts';
import { WarmShelf } from './warm-shelf.ts';
import { RateEvents } from './rate-events.ts';
import { Sessions } from './sessions.ts';
import {
  toMember,
  toProgress,
  toUser,
  toWorkshop,
  type AttemptResult,
  type Progress,
  type User,
  type Workshop,
  type WorkshopMember,
} from './records.ts';
import type { Role, Schema, UserRow, WorkshopMemberRow, WorkshopRow } from './schema.ts';

export type { AttemptResult, Progress, User, Workshop, WorkshopMember } from './records.ts';
export type { Completion } from './completions.ts';
export type { Broadcast } from './broadcasts.ts';
export type { Lease } from './leases.ts';

export type NewUser = Pick<User, 'username' | 'displayName'> & Partial<Pick<User, 'id' | 'email' | 'role'>>;
export type NewWorkshop = Omit<Workshop, 'id' | 'code' | 'createdAt'>;

// No 0/O or 1/I: join codes are read aloud and typed from a projector.
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;

export class Store {
  readonly db: Kysely<Schema>;
  /** Learners' completion pages (`completions.ts`). */
  readonly completions: Completions;
  /** Sandbox sessions (`sessions.ts`). */
  readonly sessions: Sessions;
  /** What the rate limits count, for every server (`rate-events.ts`). */
  readonly rateEvents: RateEvents;
  /** Named jobs one server does at a time, such as the reaper (`leases.ts`). */
  readonly leases: Leases;
  /** The warm pool's ready sandboxes, for every server (`warm-shelf.ts`). */
  readonly warmShelf: WarmShelf;
  /** Each workshop's last broadcast, shown again to learners who connect soon after (`broadcasts.ts`). */
  readonly broadcasts: Broadcasts;
  readonly #now: () => number;

  constructor(db: Kysely<Schema>, now: () => number = Date.now) {
    this.db = db;
    this.#now = now;
    this.completions = new Completions(db, now);
    this.sessions = new Sessions(db);
    this.rateEvents = new RateEvents(db);
    this.leases = new Leases(db, now);
    this.warmShelf = new WarmShelf(db, now);
    this.broadcasts = new Broadcasts(db);
  }

  /** Resolves when the database answers a query; rejects with why it does not. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Runs `fn` in one transaction: all of its writes, or (when it throws) none. */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new Store(trx, this.#now)));
  }

  async createUser(user: NewUser): Promise<User> {
    const row: UserRow = {
      id: user.id ?? randomUUID(),
      username: user.username,
      email: user.email ?? null,
      display_name: user.displayName,
      role: user.role ?? 'learner',
      created_at: this.#now(),
      auth_id: null,
    };
    await this.db.insertInto('users').values(row).execute();
    return toUser(row);
  }

  /** The user behind an anonymous browser identity, made on first use (a guest learner). */
  async ensureGuest(id: string): Promise<User> {
    const existing = await this.getUser(id);
    if (existing) return existing;
    try {
      return await this.createUser({ id, username: `guest-${id}`, displayName: 'Guest' });
    } catch (e) {
      // Two first requests at once: the other one made it.
      const made = isUniqueViolation(e) ? await this.getUser(id) : undefined;
      if (!made) throw e;
      return made;
    }
  }

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserByName(username: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserByAuthId(authId: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('auth_id', '=', authId).executeTakeFirst();
    return row && toUser(row);
  }

  /** What a new account gave at sign-up (or GitHub told): its username, email and name. */
  async accountProfile(authId: string) {
    return this.db
      .selectFrom('auth_user')
      .select(['username', 'email', 'name'])
      .where('id', '=', authId)
      .executeTakeFirstOrThrow();
  }

  /** Users with an account (not guests), newest first: the admin's list. */
  async listAccounts(limit = 1000): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('auth_id', 'is not', null)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toUser);
  }

  /** How many guests (browsers without an account) the store knows. */
  async countGuests(): Promise<number> {
    const { n } = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('auth_id', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Makes a guest an account holder (same id, so their progress, seats and sandbox stay theirs). */
  async linkAccount(
    userId: string,
    account: { authId: string; username: string; email: string | null; displayName: string },
  ): Promise<User> {
    await this.db
      .updateTable('users')
      .set({
        auth_id: account.authId,
        username: account.username,
        email: account.email,
        display_name: account.displayName,
      })
      .where('id', '=', userId)
      .execute();
    return (await this.getUser(userId))!;
  }

  async setDisplayName(userId: string, displayName: string): Promise<void> {
    await this.db.updateTable('users').set({ display_name: displayName }).where('id', '=', userId).execute();
  }

  /**
   * A fresh install's first account becomes its admin: `userId` is made admin if it is the only
   * account and nobody is admin yet (one statement, so two first sign-ups cannot both win).
   */
  async claimFirstAdmin(userId: string): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ role: 'admin' })
      .where('id', '=', userId)
      .where('auth_id', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('users as other')
              .select('other.id')
              .where((eb) => eb.or([eb('other.role', '=', 'admin'), eb('other.auth_id', 'is not', null)]))
              .where('other.id', '!=', userId),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** How many accounts there are, and how many of them are admins. */
  async accountCounts(): Promise<{ accounts: number; admins: number }> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => [
        eb.fn.countAll<number>().as('accounts'),
        eb.fn.sum<number>(eb.case().when('role', '=', 'admin').then(1).else(0).end()).as('admins'),
      ])
      .where('auth_id', 'is not', null)
      .executeTakeFirstOrThrow();
    return { accounts: Number(row.accounts), admins: Number(row.admins ?? 0) };
  }

  async setRole(userId: string, role: Role): Promise<User | undefined> {
    await this.db.updateTable('users').set({ role }).where('id', '=', userId).execute();
    return this.getUser(userId);
  }

  /**
   * A guest signed in to an existing account: their progress and workshop seats move to the
   * account (best scores kept, attempts added, earliest and latest completion kept), then the
   * guest is removed. All or nothing.
   */
  mergeGuestInto(guestId: string, userId: string): Promise<void> {
    return this.transaction(async (store) => {
      const { db } = store;
      const theirs = new Map((await store.progressOf(userId)).map((q) => [q.exerciseId, q]));
      for (const p of await store.progressOf(guestId)) {
        const q = theirs.get(p.exerciseId);
        const row = {
          user_id: userId,
          exercise_id: p.exerciseId,
          lesson: p.lesson,
          best_score: Math.max(p.bestScore, q?.bestScore ?? 0),
          max_score: p.maxScore,
          attempts: p.attempts + (q?.attempts ?? 0),
          last_result: JSON.stringify(q && q.updatedAt > p.updatedAt ? q.lastResult : p.lastResult),
          first_completed_at: minOf(p.firstCompletedAt, q?.firstCompletedAt ?? null),
          last_completed_at: maxOf(p.lastCompletedAt, q?.lastCompletedAt ?? null),
          updated_at: Math.max(p.updatedAt, q?.updatedAt ?? 0),
        };
        await db
          .insertInto('progress')
          .values(row)
          .onConflict((oc) => oc.columns(['user_id', 'exercise_id']).doUpdateSet(row))
          .execute();
      }
      // The guest's seats become the account's, where it has none in that workshop yet.
      const seats = await db.selectFrom('workshop_members').selectAll().where('user_id', '=', guestId).execute();
      for (const seat of seats) {
        await db
          .insertInto('workshop_members')
          .values({ ...seat, user_id: userId })
          .onConflict((oc) => oc.columns(['workshop_id', 'user_id']).doNothing())
          .execute();
      }
      await db.deleteFrom('users').where('id', '=', guestId).execute();
    });
  }

  /**
   * Counts an attempt: keeps the best score, and the first and latest time the exercise was passed.
   * With `countAttempt` false it keeps the result without counting it (live grading's partial progress).
   */
  async recordAttempt(
    userId: string,
    exerciseId: string,
    lesson: string,
    result: AttemptResult,
    countAttempt = true,
  ): Promise<Progress> {
    const counted = countAttempt ? 1 : 0;
    const now = this.#now();
    const completedAt = result.passed ? now : null;
    // One upsert, so concurrent attempts cannot lose a count or trip over each other's insert.
    await this.db
      .insertInto('progress')
      .values({
        user_id: userId,
        exercise_id: exerciseId,
        lesson,
        best_score: result.score,
        max_score: result.maxScore,
        attempts: counted,
        last_result: JSON.stringify(pick(result)),
        first_completed_at: completedAt,
        last_completed_at: completedAt,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'exercise_id']).doUpdateSet((eb) => ({
          lesson: eb.ref('excluded.lesson'),
          attempts: eb('progress.attempts', '+', counted),
          best_score: eb
            .case()
            .when('excluded.best_score', '>', eb.ref('progress.best_score'))
            .then(eb.ref('excluded.best_score'))
            .else(eb.ref('progress.best_score'))
            .end(),
          max_score: eb.ref('excluded.max_score'),
          last_result: eb.ref('excluded.last_result'),
          first_completed_at: eb.fn.coalesce('progress.first_completed_at', 'excluded.first_completed_at'),
          last_completed_at: eb.fn.coalesce('excluded.last_completed_at', 'progress.last_completed_at'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
    const row = await this.db
      .selectFrom('progress')
      .selectAll()
      .where('user_id', '=', userId)
      .where('exercise_id', '=', exerciseId)
      .executeTakeFirstOrThrow();
    return toProgress(row);
  }

  /** A learner's progress on every exercise they tried, by exercise id. */
  async progressOf(userId: string): Promise<Progress[]> {
    const rows = await this.db
      .selectFrom('progress')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('exercise_id')
      .execute();
    return rows.map(toProgress);
  }

  async progressOfLesson(userId: string, lesson: string): Promise<Progress[]> {
    const rows = await this.db
      .selectFrom('progress')
      .selectAll()
      .where('user_id', '=', userId)
      .where('lesson', '=', lesson)
      .orderBy('exercise_id')
      .execute();
    return rows.map(toProgress);
  }

  /** Creates a workshop with a fresh join code. */
  async createWorkshop(workshop: NewWorkshop): Promise<Workshop> {
    if (!Number.isInteger(workshop.seatLimit) || workshop.seatLimit < 1) {
      throw new ApiError('BAD_REQUEST', 'seatLimit must be a whole number of at least 1');
    }
    for (let tries = 1; ; tries++) {
      const row: WorkshopRow = {
        id: randomUUID(),
        code: newJoinCode(),
        title: workshop.title,
        lessons: JSON.stringify(workshop.lessons),
        starts_at: workshop.startsAt,
        ends_at: workshop.endsAt,
        seat_limit: workshop.seatLimit,
        owner_id: workshop.ownerId,
        created_at: this.#now(),
      };
      try {
        await this.db.insertInto('workshops').values(row).execute();
        return toWorkshop(row);
      } catch (e) {
        // Another workshop drew the same code (about one in a billion): draw again.
        if (tries >= 3 || !isUniqueViolation(e) || this.db.isTransaction) throw e;
      }
    }
  }

  /** The workshop with this join code (any case, surrounding spaces ignored). */
  async findWorkshopByCode(code: string): Promise<Workshop | undefined> {
    const row = await this.db
      .selectFrom('workshops')
      .selectAll()
      .where('code', '=', code.trim().toUpperCase())
      .executeTakeFirst();
    return row && toWorkshop(row);
  }

  /**
   * Adds a learner to a workshop, or returns their seat if they already have one.
   * Throws WORKSHOP_NOT_FOUND, or WORKSHOP_FULL when every seat is taken.
   */
  join(workshopId: string, userId: string, displayName: string): Promise<WorkshopMember> {
    return this.transaction(async ({ db }) => {
      // Lock the workshop's row first (a no-op update works on both databases, unlike FOR UPDATE),
      // so two learners taking the last seat at once are counted one after the other.
      const locked = await db
        .updateTable('workshops')
        .set((eb) => ({ seat_limit: eb.ref('seat_limit') }))
        .where('id', '=', workshopId)
        .executeTakeFirst();
      if (Number(locked.numUpdatedRows) === 0) throw new ApiError('WORKSHOP_NOT_FOUND');
      const mine = await db
        .selectFrom('workshop_members')
        .selectAll()
        .where('workshop_id', '=', workshopId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (mine) return toMember(mine);
      const { taken } = await db
        .selectFrom('workshop_members')
        .select((eb) => eb.fn.countAll<number>().as('taken'))
        .where('workshop_id', '=', workshopId)
        .executeTakeFirstOrThrow();
      const { seat_limit } = await db
        .selectFrom('workshops')
        .select('seat_limit')
        .where('id', '=', workshopId)
        .executeTakeFirstOrThrow();
      if (Number(taken) >= seat_limit) {
        throw new ApiError('WORKSHOP_FULL', `All ${seat_limit} seats of this workshop are taken`);
      }
      const row: WorkshopMemberRow = {
        workshop_id: workshopId,
        user_id: userId,
        display_name: displayName,
        joined_at: this.#now(),
      };
      await db.insertInto('workshop_members').values(row).execute();
      return toMember(row);
    });
  }

  async getWorkshop(id: string): Promise<Workshop | undefined> {
    const row = await this.db.selectFrom('workshops').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toWorkshop(row);
  }

  /** Changes a workshop's title, seat limit or end; returns it as it now is. */
  async updateWorkshop(
    id: string,
    change: Partial<Pick<Workshop, 'title' | 'seatLimit' | 'endsAt'>>,
  ): Promise<Workshop | undefined> {
    const set = {
      ...(change.title !== undefined ? { title: change.title } : {}),
      ...(change.seatLimit !== undefined ? { seat_limit: change.seatLimit } : {}),
      ...(change.endsAt !== undefined ? { ends_at: change.endsAt } : {}),
    };
    if (Object.keys(set).length > 0) await this.db.updateTable('workshops').set(set).where('id', '=', id).execute();
    return this.getWorkshop(id);
  }

  /** Workshops owned by a user (every workshop when ownerId is undefined), newest start first. */
  async listWorkshops(ownerId?: string): Promise<Workshop[]> {
    let q = this.db.selectFrom('workshops').selectAll();
    if (ownerId !== undefined) q = q.where('owner_id', '=', ownerId);
    return (await q.orderBy('starts_at', 'desc').execute()).map(toWorkshop);
  }

  /** The workshops a learner has a seat in, latest joined first. */
  async workshopsJoinedBy(userId: string): Promise<Workshop[]> {
    const rows = await this.db
      .selectFrom('workshops')
      .innerJoin('workshop_members', 'workshop_members.workshop_id', 'workshops.id')
      .selectAll('workshops')
      .where('workshop_members.user_id', '=', userId)
      .orderBy('workshop_members.joined_at', 'desc')
      .execute();
    return rows.map(toWorkshop);
  }

  /** Workshops running at `at`, or starting within `leadMs` of it. */
  async workshopsAround(at: number, leadMs: number): Promise<Workshop[]> {
    const rows = await this.db
      .selectFrom('workshops')
      .selectAll()
      .where('starts_at', '<=', at + leadMs)
      .where('ends_at', '>', at)
      .execute();
    return rows.map(toWorkshop);
  }

  /** The progress of several learners at once (a workshop's dashboard). */
  async progressOfUsers(userIds: readonly string[]): Promise<Progress[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.selectFrom('progress').selectAll().where('user_id', 'in', userIds).execute();
    return rows.map(toProgress);
  }

  /** A workshop's learners, in the order they joined. */
  async membersOf(workshopId: string): Promise<WorkshopMember[]> {
    const rows = await this.db
      .selectFrom('workshop_members')
      .selectAll()
      .where('workshop_id', '=', workshopId)
      .orderBy('joined_at')
      .orderBy('user_id')
      .execute();
    return rows.map(toMember);
  }
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** True for a unique or primary-key violation, from either database. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function newJoinCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

const pick = ({ score, maxScore, passed, checks }: AttemptResult): AttemptResult => ({
  score,
  maxScore,
  passed,
  checks,
});
