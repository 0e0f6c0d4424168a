// The events a rate limit counts (identity/rate-limit.ts), kept in the store: every server that
// shares the database sees the same counts. One transaction per event, and on PostgreSQL a lock
// per bucket and key for its length, so two servers taking the last place at once cannot both get it.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Schema } from './schema.ts';

export class RateEvents {
  readonly #db: Kysely<Schema>;

  constructor(db: Kysely<Schema>) {
    this.#db = db;
  }

  /**
   * The times of the events of `key` in `bucket` since `since` (oldest first). With `record`, counts
   * one more at `now` when fewer than `limit` were there, and forgets the bucket's older events; a
   * look without it only reads.
   */
  async recent(bucket: string, key: string, since: number, record?: { now: number; limit: number }): Promise<number[]> {
    const times = async (db: Kysely<Schema>) =>
      (
        await db
          .selectFrom('rate_events')
          .select('at')
          .where('bucket', '=', bucket)
          .where('key', '=', key)
          .where('at', '>', since)
          .orderBy('at')
          .execute()
      ).map((r) => Number(r.at));
    if (!record) return times(this.#db);
    return this.#db.transaction().execute(async (trx) => {
      if (trx.getExecutor().adapter instanceof PostgresAdapter)
        await sql`select pg_advisory_xact_lock(hashtext(${`${bucket}\n${key}`}))`.execute(trx);
      await trx.deleteFrom('rate_events').where('bucket', '=', bucket).where('at', '<=', since).execute();
      const before = await times(trx);
      if (before.length < record.limit)
        await trx.insertInto('rate_events').values({ bucket, key, at: record.now }).execute();
      return before;
    });
  }
}
