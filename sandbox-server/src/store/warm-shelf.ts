// Where the warm pool's ready sandboxes wait for every server of a deployment (`sessions/warm-pool.ts`
// fills it on one server; any server takes from it). Taking is one conditional update, so two
// servers never take the same sandbox; a taken row is kept until the reaper forgets it.
import type { Kysely } from 'kysely';
import type { Schema } from './schema.ts';

export interface ShelfRow {
  id: string;
  /** When a server took it for a session; absent while it is ready. */
  takenAt?: number;
}

export class WarmShelf {
  readonly #db: Kysely<Schema>;
  readonly #now: () => number;

  constructor(db: Kysely<Schema>, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async add(id: string): Promise<void> {
    await this.#db
      .insertInto('warm_sandboxes')
      .values({ sandbox_id: id, ready_at: this.#now(), taken_at: null })
      .execute();
  }

  /** The oldest ready sandbox, now taken; undefined when none is ready. */
  async take(): Promise<string | undefined> {
    // Two servers may pick the same row: the second's update finds it taken and changes nothing,
    // and it looks again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const next = await this.#db
        .selectFrom('warm_sandboxes')
        .select('sandbox_id')
        .where('taken_at', 'is', null)
        .orderBy('ready_at')
        .orderBy('sandbox_id')
        .limit(1)
        .executeTakeFirst();
      if (!next) return undefined;
      const taken = await this.#db
        .updateTable('warm_sandboxes')
        .set({ taken_at: this.#now() })
        .where('sandbox_id', '=', next.sandbox_id)
        .where('taken_at', 'is', null)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) > 0) return next.sandbox_id;
    }
    return undefined;
  }

  async list(): Promise<ShelfRow[]> {
    const rows = await this.#db.selectFrom('warm_sandboxes').selectAll().orderBy('ready_at').execute();
    return rows.map((r) => ({ id: r.sandbox_id, ...(r.taken_at !== null ? { takenAt: Number(r.taken_at) } : {}) }));
  }

  /** Takes these sandboxes off the shelf unless a server took them first; returns the ones it took off. */
  async remove(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const gone: string[] = [];
    for (const id of ids) {
      const r = await this.#db
        .deleteFrom('warm_sandboxes')
        .where('sandbox_id', '=', id)
        .where('taken_at', 'is', null)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) > 0) gone.push(id);
    }
    return gone;
  }

  /** Forgets rows taken before `before` (their sessions hold those sandboxes by now) and rows of sandboxes that are gone. */
  async forget(before: number, gone: readonly string[] = []): Promise<void> {
    await this.#db.deleteFrom('warm_sandboxes').where('taken_at', '<', before).execute();
    if (gone.length > 0)
      await this.#db
        .deleteFrom('warm_sandboxes')
        .where('sandbox_id', 'in', [...gone])
        .execute();
  }
}
