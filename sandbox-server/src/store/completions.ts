// Completion pages in the store: one per learner, named by 128 random bits that only this table
// maps back to them, so a shared link can be neither guessed nor forged.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { toUser, type User } from './records.ts';
import type { Schema } from './schema.ts';

export interface Completion {
  /** The unguessable part of the page's link: 22 base64url characters. */
  id: string;
  userId: string;
  createdAt: number;
}

/** What an id looks like; anything else is not looked up at all. */
export const COMPLETION_ID = /^[A-Za-z0-9_-]{22}$/;

export class Completions {
  readonly #db: Kysely<Schema>;
  readonly #now: () => number;

  constructor(db: Kysely<Schema>, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** The learner's completion page, if they have one. */
  async of(userId: string): Promise<Completion | undefined> {
    const row = await this.#db.selectFrom('completions').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && { id: row.id, userId: row.user_id, createdAt: row.created_at };
  }

  /** The learner's completion page, made now if they have none (two at once get the same one). */
  async issue(userId: string): Promise<Completion> {
    await this.#db
      .insertInto('completions')
      .values({ id: randomBytes(16).toString('base64url'), user_id: userId, created_at: this.#now() })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    return (await this.of(userId))!;
  }

  /**
   * The page with this id and its learner, while the learner has an account: a deleted account
   * (its user gone, or only its sign-in) leaves nothing to find.
   */
  async find(id: string): Promise<{ completion: Completion; user: User } | undefined> {
    if (!COMPLETION_ID.test(id)) return undefined;
    const row = await this.#db
      .selectFrom('completions')
      .innerJoin('users', 'users.id', 'completions.user_id')
      .selectAll('users')
      .select(['completions.id as completion_id', 'completions.created_at as completion_created_at'])
      .where('completions.id', '=', id)
      .where('users.auth_id', 'is not', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const { completion_id, completion_created_at, ...user } = row;
    return {
      completion: { id: completion_id, userId: user.id, createdAt: completion_created_at },
      user: toUser(user),
    };
  }
}
