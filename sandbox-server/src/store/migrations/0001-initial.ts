// The first schema: users, progress, workshops and their members. Schema builder only, so the
// same migration runs on SQLite and PostgreSQL (the one sql`` is a CHECK both accept).
import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// `bigint` holds ms timestamps in PostgreSQL (int4 would overflow); SQLite gives it integer affinity.
export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      .addColumn('email', 'text', (c) => c.unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) =>
        c
          .notNull()
          .defaultTo('learner')
          .check(sql`role in ('learner', 'instructor', 'admin')`),
      )
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('progress')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('exercise_id', 'text', (c) => c.notNull())
      .addColumn('lesson', 'text', (c) => c.notNull())
      .addColumn('best_score', 'integer', (c) => c.notNull())
      .addColumn('max_score', 'integer', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_result', 'text', (c) => c.notNull())
      .addColumn('first_completed_at', 'bigint')
      .addColumn('last_completed_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('progress_pk', ['user_id', 'exercise_id'])
      .execute();
    await db.schema.createIndex('progress_user_lesson').on('progress').columns(['user_id', 'lesson']).execute();

    await db.schema
      .createTable('workshops')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('code', 'text', (c) => c.notNull().unique())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('lessons', 'text', (c) => c.notNull())
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint', (c) => c.notNull())
      .addColumn('seat_limit', 'integer', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('workshop_members')
      .addColumn('workshop_id', 'text', (c) => c.notNull().references('workshops.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('joined_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('workshop_members_pk', ['workshop_id', 'user_id'])
      .execute();
  },

  async down(db: Kysely<unknown>) {
    for (const table of ['workshop_members', 'workshops', 'progress', 'users']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
