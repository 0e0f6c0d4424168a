// Leases: named jobs that one server of a deployment does at a time (the reaper, the warm pool).
// Taking or renewing one is a single upsert whose update only happens when the lease is free,
// expired or already the caller's, so two servers racing for it can never both win. Times come
// from the servers' clocks (ms since the epoch), which agree on one host; `LeaseKeeper` keeps a
// margin for the rest.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.ts';

/** Who holds a lease and until when (ms since the epoch); it has expired once `until <= now`. */
export interface Lease {
  holder: string;
  until: number;
}

export class Leases {
  readonly #db: Kysely<Schema>;
  readonly #now: () => number;

  constructor(db: Kysely<Schema>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /**
   * Takes the lease `name` for `holder` until now + `ttlMs` when nobody holds it, its holder's time
   * ran out, or `holder` has it already (a renewal). Resolves with whether `holder` holds it now.
   */
  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const row = await this.#db
      .insertInto('leases')
      .values({ name, holder, until: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), until: eb.ref('excluded.until') }))
          .where((eb) => eb.or([eb('leases.until', '<=', now), eb('leases.holder', '=', holder)])),
      )
      // A row comes back only when the insert or the update happened.
      .returning('holder')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Gives the lease up, if `holder` holds it (a lease taken over since is left alone). */
  async release(name: string, holder: string): Promise<void> {
    await this.#db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  /** The lease as stored (possibly expired), or undefined when nobody has taken it. */
  async current(name: string): Promise<Lease | undefined> {
    return this.#db.selectFrom('leases').select(['holder', 'until']).where('name', '=', name).executeTakeFirst();
  }
}
