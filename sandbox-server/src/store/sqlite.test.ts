// The store's suite on SQLite: a real database file in a temporary folder.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { openDatabase, SQLITE_FILE } from './database.ts';
import { storeSuite } from './store-suite.ts';

const temp = mkdtempSync(join(tmpdir(), 'dockyard-store-'));
// A folder that does not exist yet: opening the database creates it.
const dataDir = join(temp, 'data');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

storeSuite('SQLite', () => openDatabase({ dataDir }));

it('keeps the SQLite file in the data folder, in WAL mode with foreign keys on', async () => {
  const { db, close } = await openDatabase({ dataDir });
  try {
    expect(existsSync(join(dataDir, SQLITE_FILE))).toBe(true);
    const { rows: mode } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    expect(mode[0]?.journal_mode).toBe('wal');
    const { rows: fk } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
    expect(fk[0]?.foreign_keys).toBe(1);
    // Owner-only, the WAL files (written by the migrations) included: a gVisor host lets others
    // through the data folder.
    const files = readdirSync(dataDir).filter((f) => f.startsWith(SQLITE_FILE));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect((statSync(join(dataDir, f)).mode & 0o777).toString(8), f).toBe('600');
  } finally {
    await close();
  }
});
