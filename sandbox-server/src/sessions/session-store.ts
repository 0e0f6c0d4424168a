// Where the session table lives: the store (SQLite or PostgreSQL), written by difference with what it
// holds. The manager keeps its working copy and only sees this interface. `sessions.json`, where a
// server kept the table before, is imported once at start-up and then removed.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Sessions } from '../store/sessions.ts';

export interface SessionRecord {
  id: string;
  ownerId: string;
  sandboxId: string;
  lesson?: string;
  /** The nodes added to the session (node2...); its first sandbox, `sandboxId`, is node1. */
  nodes?: { name: string; sandboxId: string }[];
  /** Whether the session's peer network exists and node1 is on it. */
  peered?: boolean;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
}

/** The store's session table (`store/sessions.ts`), as the session store uses it. */
export type SessionTable = Pick<Sessions, 'all' | 'write'>;

export interface SessionStore {
  load(): Promise<SessionRecord[]>;
  /** Makes the table hold these sessions, and only these. Saves apply in the order they were made. */
  save(records: readonly SessionRecord[]): Promise<void>;
}

/**
 * The store's session table. Each save writes only the sessions that changed and removes the ones
 * that went since the save before; after a failed write the next one compares with the table itself.
 */
export function tableSessionStore(table: SessionTable): SessionStore {
  /** What the table holds, as far as the saves so far know: id -> the record's JSON. */
  let known: Map<string, string> | undefined;
  let last: Promise<void> = Promise.resolve();
  const snapshot = (records: readonly SessionRecord[]) => new Map(records.map((r) => [r.id, JSON.stringify(r)]));
  return {
    async load() {
      const all = await table.all();
      known = snapshot(all);
      return all;
    },
    save(records) {
      const next = snapshot(records);
      const write = async () => {
        const before = known ?? snapshot(await table.all());
        known = undefined; // until this write is done: a failure leaves the next one to compare afresh
        await table.write(
          records.filter((r) => before.get(r.id) !== next.get(r.id)),
          [...before.keys()].filter((id) => !next.has(id)),
        );
        known = next;
      };
      last = last.catch(() => undefined).then(write);
      return last;
    },
  };
}

/**
 * Moves the sessions of `sessions.json` (a server before sessions were in the store) into the
 * table, keeping any the table already has, then removes the file. Returns how many it moved.
 */
export async function importSessionsFile(dataDir: string, table: SessionTable): Promise<number> {
  const file = join(dataDir, 'sessions.json');
  let records: SessionRecord[];
  try {
    records = JSON.parse(readFileSync(file, 'utf8')) as SessionRecord[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new Error(`${file} could not be read, so its sessions cannot move into the store: ${String(err)}`, {
      cause: err,
    });
  }
  const have = new Set((await table.all()).map((r) => r.id));
  const moved = records.filter((r) => !have.has(r.id));
  await table.write(moved);
  rmSync(file);
  return moved.length;
}

/** For unit tests: keeps the table in memory. */
export function memorySessionStore(initial: SessionRecord[] = []): SessionStore & { records: SessionRecord[] } {
  const store = {
    records: [...initial],
    load: async () => structuredClone(store.records),
    save: async (r: readonly SessionRecord[]) => void (store.records = structuredClone([...r])),
  };
  return store;
}
