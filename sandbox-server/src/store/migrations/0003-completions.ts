// Completion pages: a learner who passed the whole course gets one, at an unguessable id that only
// the store maps back to them. Deleting the user deletes it (the shared link then finds nothing).
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const completions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('completions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('completions').execute();
  },
};
