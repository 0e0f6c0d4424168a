// Accounts, progress and workshops over Kysely: the same queries on SQLite and PostgreSQL.
import { randomInt, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ApiError } from '../errors.ts';
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
import type { Schema, UserRow, WorkshopMemberRow, WorkshopRow } from './schema.ts';

export type { AttemptResult, Progress, User, Workshop, WorkshopMember } from './records.ts';

export type NewUser = Pick<User, 'username' | 'displayName'> & Partial<Pick<User, 'id' | 'email' | 'role'>>;
export type NewWorkshop = Omit<Workshop, 'id' | 'code' | 'createdAt'>;

// No 0/O or 1/I: join codes are read aloud and typed from a projector.
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;

export class Store {
  readonly db: Kysely<Schema>;
  readonly #now: () => number;

  constructor(db: Kysely<Schema>, now: () => number = Date.now) {
    this.db = db;
    this.#now = now;
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

  /** Counts an attempt: keeps the best score, and the first and latest time the exercise was passed. */
  async recordAttempt(userId: string, exerciseId: string, lesson: string, result: AttemptResult): Promise<Progress> {
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
        attempts: 1,
        last_result: JSON.stringify(pick(result)),
        first_completed_at: completedAt,
        last_completed_at: completedAt,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'exercise_id']).doUpdateSet((eb) => ({
          lesson: eb.ref('excluded.lesson'),
          attempts: eb('progress.attempts', '+', 1),
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
