// The warm pool's ready sandboxes, in the store: the server that runs the pool puts each one here,
// and any server of the deployment takes one for a new session. A taken row stays a while
// (`taken_at`), so the reaper does not mistake a sandbox another server just took for an orphan.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const warmShelf: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('warm_sandboxes')
      .addColumn('sandbox_id', 'text', (c) => c.primaryKey())
      .addColumn('ready_at', 'bigint', (c) => c.notNull())
      .addColumn('taken_at', 'bigint')
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('warm_sandboxes').execute();
  },
};
