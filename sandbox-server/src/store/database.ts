// Opens the store's database: PostgreSQL when a URL is given, otherwise an SQLite file in the
// data folder. Either way the schema is migrated before the database is handed out.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';
import { migrate } from './migrate.ts';
import { localNotifier, postgresNotifier, type Notifier, type NotifierOptions } from './notifications.ts';
import type { Schema } from './schema.ts';

export interface DatabaseOptions {
  /** Folder that holds `dockyard.sqlite` when there is no databaseUrl. */
  dataDir: string;
  /** A postgres:// URL; when set, PostgreSQL is used instead of SQLite. */
  databaseUrl?: string;
  /** Where the notifier reports a lost connection or a failing subscriber. */
  log?: NotifierOptions['log'];
}

export interface Database {
  db: Kysely<Schema>;
  dialect: 'sqlite' | 'postgres';
  /** Notifications to every server of the deployment (`notifications.ts`): LISTEN/NOTIFY on PostgreSQL. */
  notifier: Notifier;
  /** Closes the connection(s); the database is unusable afterwards. */
  close(): Promise<void>;
}

export const SQLITE_FILE = 'dockyard.sqlite';

/** Opens (creating if need be) and migrates the database. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const dialect = options.databaseUrl ? 'postgres' : 'sqlite';
  const db = new Kysely<Schema>({
    dialect: options.databaseUrl ? postgres(options.databaseUrl) : sqlite(options.dataDir),
  });
  try {
    await migrate(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const notifier = options.databaseUrl
    ? postgresNotifier(options.databaseUrl, { log: options.log })
    : localNotifier(join(options.dataDir, SQLITE_FILE), { log: options.log });
  const close = async () => {
    await notifier.close();
    await db.destroy();
  };
  return { db, dialect, notifier, close };
}

function sqlite(dataDir: string): Dialect {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Owner-only, like every file of the data folder (which gVisor hosts open to passers-through):
  // SQLite gives its -wal and -shm files the database file's mode.
  const path = join(dataDir, SQLITE_FILE);
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  const file = new SQLite(path);
  // WAL: readers do not block the writer, and a crash mid-write loses nothing committed.
  file.pragma('journal_mode = WAL');
  file.pragma('foreign_keys = ON');
  file.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database: file });
}

// int8 (bigint) comes back from pg as a string by default; our ms timestamps and counts fit in
// a double, so read them as numbers, like SQLite does.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function postgres(connectionString: string): Dialect {
  // A query waits at most 5 s for a connection: with PostgreSQL away, requests fail (and /readyz
  // says not ready) instead of hanging.
  const pool = new pg.Pool({ connectionString, types, max: 10, connectionTimeoutMillis: 5000 });
  // An idle connection that PostgreSQL closes (a restart) is an 'error' on the pool, which would
  // end the process unheard; the pool drops that connection and makes a new one when next asked.
  pool.on('error', () => undefined);
  // A connection that drops while in use (a network cut) is an 'error' on its client as well as a
  // failed query; with nobody listening, that event would end the process. The query's failure is
  // what counts: the caller hears of it, and the pool replaces the connection.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new PostgresDialect({ pool });
}
