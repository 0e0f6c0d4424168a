// Rate-limited events (a sign-in, a new sandbox, a wrong join code) per bucket and client address,
// in the store so every server of a deployment counts the same ones. Rows older than their
// bucket's window are deleted as new ones come.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const rateEvents: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('rate_events')
      .addColumn('bucket', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_events_key').on('rate_events').columns(['bucket', 'key', 'at']).execute();
    await db.schema.createIndex('rate_events_age').on('rate_events').columns(['bucket', 'at']).execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('rate_events').execute();
  },
};
