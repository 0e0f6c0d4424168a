// The last broadcast of each workshop, kept in the store so that a learner who connects to any
// server of the deployment shortly after it was sent is shown it again (workshops/classroom.ts).
import type { Kysely } from 'kysely';
import type { Schema } from './schema.ts';

/** A message from an instructor to a workshop's learners. */
export interface Broadcast {
  workshopId: string;
  text: string;
  /** The instructor's display name. */
  from: string;
  /** When it was sent, ms since the epoch. */
  at: number;
}

export class Broadcasts {
  readonly #db: Kysely<Schema>;

  constructor(db: Kysely<Schema>) {
    this.#db = db;
  }

  /** Keeps `b` as its workshop's last broadcast, in place of the one before. */
  async put(b: Broadcast): Promise<void> {
    const row = { workshop_id: b.workshopId, text: b.text, sender: b.from, sent_at: b.at };
    await this.#db
      .insertInto('broadcasts')
      .values(row)
      .onConflict((oc) => oc.column('workshop_id').doUpdateSet({ text: b.text, sender: b.from, sent_at: b.at }))
      .execute();
  }

  /** The workshop's last broadcast, if it has one. */
  async last(workshopId: string): Promise<Broadcast | undefined> {
    const row = await this.#db
      .selectFrom('broadcasts')
      .selectAll()
      .where('workshop_id', '=', workshopId)
      .executeTakeFirst();
    return row && toBroadcast(row);
  }

  /** The last broadcast of each workshop the user has a seat in, when sent after `since`; oldest first. */
  async recentFor(userId: string, since: number): Promise<Broadcast[]> {
    // The recent broadcasts first (an index), then the user's seat in each (the members' key).
    const rows = await this.#db
      .selectFrom('broadcasts')
      .selectAll()
      .where('sent_at', '>', since)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('workshop_members')
            .select('workshop_members.user_id')
            .whereRef('workshop_members.workshop_id', '=', 'broadcasts.workshop_id')
            .where('workshop_members.user_id', '=', userId),
        ),
      )
      .orderBy('sent_at')
      .execute();
    return rows.map(toBroadcast);
  }
}

const toBroadcast = (row: Schema['broadcasts']): Broadcast => ({
  workshopId: row.workshop_id,
  text: row.text,
  from: row.sender,
  at: row.sent_at,
});
