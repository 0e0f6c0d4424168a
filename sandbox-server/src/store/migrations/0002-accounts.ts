// Accounts: better-auth's four tables (users' credentials, their sign-in sessions, linked
// providers, one-time values), and the link from a Dockyard user to their account. The columns
// are exactly what better-auth 1.x asks for with the username plugin; `auth.test.ts` has
// better-auth compare this schema with its own, on SQLite and PostgreSQL.
import { PostgresAdapter, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const accounts: Migration = {
  async up(db: Kysely<unknown>) {
    // better-auth keeps dates as timestamptz on PostgreSQL and ISO text on SQLite, and booleans as
    // booleans or 0/1.
    const pg = db.getExecutor().adapter instanceof PostgresAdapter;
    const date = pg ? 'timestamptz' : 'date';
    const bool = pg ? 'boolean' : 'integer';

    await db.schema
      .createTable('auth_user')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('emailVerified', bool, (c) => c.notNull())
      .addColumn('image', 'text')
      .addColumn('createdAt', date, (c) => c.notNull())
      .addColumn('updatedAt', date, (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.unique())
      .addColumn('displayUsername', 'text')
      .execute();
    await db.schema
      .createTable('auth_session')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('expiresAt', date, (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull().unique())
      .addColumn('createdAt', date, (c) => c.notNull())
      .addColumn('updatedAt', date, (c) => c.notNull())
      .addColumn('ipAddress', 'text')
      .addColumn('userAgent', 'text')
      .addColumn('userId', 'text', (c) => c.notNull().references('auth_user.id').onDelete('cascade'))
      .execute();
    await db.schema
      .createTable('auth_account')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('accountId', 'text', (c) => c.notNull())
      .addColumn('providerId', 'text', (c) => c.notNull())
      .addColumn('userId', 'text', (c) => c.notNull().references('auth_user.id').onDelete('cascade'))
      .addColumn('accessToken', 'text')
      .addColumn('refreshToken', 'text')
      .addColumn('idToken', 'text')
      .addColumn('accessTokenExpiresAt', date)
      .addColumn('refreshTokenExpiresAt', date)
      .addColumn('scope', 'text')
      .addColumn('password', 'text')
      .addColumn('createdAt', date, (c) => c.notNull())
      .addColumn('updatedAt', date, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('auth_verification')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('identifier', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('expiresAt', date, (c) => c.notNull())
      .addColumn('createdAt', date, (c) => c.notNull())
      .addColumn('updatedAt', date, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('auth_session_userId_idx').on('auth_session').column('userId').execute();
    await db.schema.createIndex('auth_account_userId_idx').on('auth_account').column('userId').execute();
    await db.schema
      .createIndex('auth_verification_identifier_idx')
      .on('auth_verification')
      .column('identifier')
      .execute();

    // A guest has no account; signing up links the guest's user (and so their progress) to one.
    await db.schema
      .alterTable('users')
      .addColumn('auth_id', 'text', (c) => c.references('auth_user.id').onDelete('set null'))
      .execute();
    await db.schema.createIndex('users_auth_id').on('users').column('auth_id').unique().execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('users_auth_id').execute();
    await db.schema.alterTable('users').dropColumn('auth_id').execute();
    for (const table of ['auth_verification', 'auth_account', 'auth_session', 'auth_user']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
