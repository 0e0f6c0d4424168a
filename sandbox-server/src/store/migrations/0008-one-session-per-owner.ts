// One session per owner, enforced by the database: two servers creating a learner's session at the
// same moment cannot both record one (the second finds the first's). Before, only the one process
// that held every session made sure of it. Should a table hold two for one owner, the newer stays;
// the reaper removes the sandboxes of the other, which no session accounts for any more.
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const oneSessionPerOwner: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`delete from sessions where exists (
      select 1 from sessions newer
      where newer.owner_id = sessions.owner_id
        and (newer.created_at > sessions.created_at or (newer.created_at = sessions.created_at and newer.id > sessions.id))
    )`.execute(db);
    await db.schema.dropIndex('sessions_owner').execute();
    await db.schema.createIndex('sessions_one_per_owner').on('sessions').column('owner_id').unique().execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('sessions_one_per_owner').execute();
    await db.schema.createIndex('sessions_owner').on('sessions').column('owner_id').execute();
  },
};
