// Leases: a named job that one server of a deployment does at a time (the reaper, the warm pool)
// belongs to whoever holds its row here, until `until` (ms since the epoch). Holders renew it well
// before then; a holder that stops renewing loses it to the next one that asks.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const leases: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('until', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('leases').execute();
  },
};
