// Sandbox sessions, which lived in `sessions.json` beside one server process: in the store, so every
// server of a deployment sees the same sessions (the file is imported once at start-up, then gone).
// `nodes` is JSON text (its added nodes: name and sandbox), as the other JSON columns.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const sessions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('sandbox_id', 'text', (c) => c.notNull())
      .addColumn('lesson', 'text')
      .addColumn('nodes', 'text', (c) => c.notNull())
      .addColumn('peered', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_owner').on('sessions').column('owner_id').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('sessions').execute();
  },
};
