// Where the session table lives: the store (SQLite or PostgreSQL), shared by every server of a
// deployment. The manager keeps its working copy and only sees this interface. `sessions.json`, where a
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
export type SessionTable = Pick<Sessions, 'all' | 'get' | 'claim' | 'write' | 'touch' | 'removeAbandoned'>;

/**
 * Where sessions are kept for every server of a deployment. Each change is written on its own (a
 * server never writes sessions it did not change, so servers cannot undo each other's changes),
 * and writes apply in the order they were made.
 */
export interface SessionStore {
  load(): Promise<SessionRecord[]>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Records a new session unless its owner has one; returns the owner's session then. */
  claim(record: SessionRecord): Promise<SessionRecord | undefined>;
  /** Writes a session as it is now. */
  put(record: SessionRecord): Promise<void>;
  /** Moves a session's last activity on to `at` (never back), and nothing else. */
  touch(id: string, at: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** Removes sessions recorded before `before` whose sandbox was never made. */
  removeAbandoned(before: number): Promise<void>;
}

/** The store's session table, one write at a time in order. */
export function tableSessionStore(table: SessionTable): SessionStore {
  let last: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(write: () => Promise<T>): Promise<T> => {
    const next = last.catch(() => undefined).then(write);
    last = next;
    return next;
  };
  return {
    load: () => table.all(),
    get: (id) => table.get(id),
    claim: (r) => inOrder(() => table.claim(r)),
    put: (r) => inOrder(() => table.write([r])),
    touch: (id, at) => inOrder(() => table.touch(id, at)),
    remove: (id) => inOrder(() => table.write([], [id])),
    removeAbandoned: (before) => inOrder(() => table.removeAbandoned(before)),
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
    records: structuredClone(initial),
    load: async () => structuredClone(store.records),
    get: async (id: string) => structuredClone(store.records.find((r) => r.id === id)),
    claim: async (r: SessionRecord) => {
      const theirs = store.records.find((o) => o.ownerId === r.ownerId);
      if (theirs) return structuredClone(theirs);
      store.records.push(structuredClone(r));
      return undefined;
    },
    put: async (r: SessionRecord) => {
      store.records = [...store.records.filter((o) => o.id !== r.id), structuredClone(r)];
    },
    touch: async (id: string, at: number) => {
      const r = store.records.find((o) => o.id === id);
      if (r) r.lastActivityAt = Math.max(r.lastActivityAt, at);
    },
    remove: async (id: string) => {
      store.records = store.records.filter((r) => r.id !== id);
    },
    removeAbandoned: async (before: number) => {
      store.records = store.records.filter((r) => r.sandboxId || r.createdAt >= before);
    },
  };
  return store;
}
