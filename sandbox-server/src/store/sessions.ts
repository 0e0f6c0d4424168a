// The session table: each sandbox session with its owner, sandboxes, lesson and times, the same on
// SQLite and PostgreSQL. The session manager keeps its working copy and writes changes here.
import type { Kysely } from 'kysely';
import type { SessionRecord } from '../sessions/session-store.ts';
import type { Schema, SessionsTable } from './schema.ts';

const toRow = (r: SessionRecord): SessionsTable => ({
  id: r.id,
  owner_id: r.ownerId,
  sandbox_id: r.sandboxId,
  lesson: r.lesson ?? null,
  nodes: JSON.stringify(r.nodes ?? []),
  peered: r.peered ? 1 : 0,
  created_at: r.createdAt,
  last_activity_at: r.lastActivityAt,
  expires_at: r.expiresAt,
});

const toRecord = (row: SessionsTable): SessionRecord => {
  const nodes = JSON.parse(row.nodes) as NonNullable<SessionRecord['nodes']>;
  return {
    id: row.id,
    ownerId: row.owner_id,
    sandboxId: row.sandbox_id,
    ...(row.lesson !== null ? { lesson: row.lesson } : {}),
    ...(nodes.length > 0 ? { nodes } : {}),
    ...(row.peered ? { peered: true } : {}),
    createdAt: row.created_at,
    lastActivityAt: row.last_activity_at,
    expiresAt: row.expires_at,
  };
};

export class Sessions {
  readonly #db: Kysely<Schema>;

  constructor(db: Kysely<Schema>) {
    this.#db = db;
  }

  async all(): Promise<SessionRecord[]> {
    const rows = await this.#db.selectFrom('sessions').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toRecord);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = await this.#db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Records a new session unless its owner has one (one per owner, enforced by a unique index, so
   * two servers racing cannot both record one). Returns the owner's session that was there, if any.
   */
  async claim(r: SessionRecord): Promise<SessionRecord | undefined> {
    const inserted = await this.#db
      .insertInto('sessions')
      .values(toRow(r))
      .onConflict((oc) => oc.column('owner_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return undefined;
    const row = await this.#db.selectFrom('sessions').selectAll().where('owner_id', '=', r.ownerId).executeTakeFirst();
    // Gone again in between (it ended): try once more.
    return row ? toRecord(row) : this.claim(r);
  }

  /** Removes sessions recorded before `before` that never got a sandbox (their server died making it). */
  async removeAbandoned(before: number): Promise<void> {
    await this.#db.deleteFrom('sessions').where('sandbox_id', '=', '').where('created_at', '<', before).execute();
  }

  async touch(id: string, at: number): Promise<void> {
    await this.#db
      .updateTable('sessions')
      .set({ last_activity_at: at })
      .where('id', '=', id)
      .where('last_activity_at', '<', at)
      .execute();
  }

  /** Writes these sessions (new or changed) and removes the ones with these ids, in one transaction. */
  async write(put: readonly SessionRecord[], remove: readonly string[] = []): Promise<void> {
    if (put.length === 0 && remove.length === 0) return;
    await this.#db.transaction().execute(async (trx) => {
      if (remove.length > 0)
        await trx
          .deleteFrom('sessions')
          .where('id', 'in', [...remove])
          .execute();
      for (const r of put) {
        const row = toRow(r);
        const { id: _id, ...changes } = row;
        await trx
          .insertInto('sessions')
          .values(row)
          .onConflict((oc) => oc.column('id').doUpdateSet(changes))
          .execute();
      }
    });
  }
}
