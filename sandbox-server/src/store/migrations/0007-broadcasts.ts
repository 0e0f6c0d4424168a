// An instructor's last broadcast per workshop, in the store rather than in one server's memory: a
// learner who connects to any server of the deployment soon after it was sent is shown it again.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const broadcasts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('broadcasts')
      .addColumn('workshop_id', 'text', (c) => c.primaryKey().references('workshops.id').onDelete('cascade'))
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('sender', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .execute();
    // Every learner page that connects asks for the recent ones: few rows, whatever the workshops.
    await db.schema.createIndex('broadcasts_sent_at').on('broadcasts').column('sent_at').execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('broadcasts').execute();
  },
};
