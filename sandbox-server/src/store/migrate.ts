// Brings a database up to the latest schema. The migrations are listed here in code, not read
// from a folder, so they work the same from the source tree and from any packaging.
import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResult } from 'kysely/migration';
import { initial } from './migrations/0001-initial.ts';
import { accounts } from './migrations/0002-accounts.ts';
import { completions } from './migrations/0003-completions.ts';
import { sessions } from './migrations/0004-sessions.ts';
import { rateEvents } from './migrations/0005-rate-events.ts';
import { leases } from './migrations/0006-leases.ts';
import { broadcasts } from './migrations/0007-broadcasts.ts';
import { oneSessionPerOwner } from './migrations/0008-one-session-per-owner.ts';
import { warmShelf } from './migrations/0009-warm-shelf.ts';

/** Every migration, by name; names sort in the order they apply. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-accounts': accounts,
  '0003-completions': completions,
  '0004-sessions': sessions,
  '0005-rate-events': rateEvents,
  '0006-leases': leases,
  '0007-broadcasts': broadcasts,
  '0008-one-session-per-owner': oneSessionPerOwner,
  '0009-warm-shelf': warmShelf,
};

/** Applies the migrations not yet applied (none on a second run); throws if one fails. */
export async function migrate<DB>(db: Kysely<DB>): Promise<MigrationResult[]> {
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider: { getMigrations: async () => ({ ...migrations }) },
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return results;
}
