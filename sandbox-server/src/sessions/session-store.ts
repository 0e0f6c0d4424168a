// Where the session table lives between restarts: a JSON file written atomically. The SQL store
// (accounts issue) replaces it; the manager only sees this interface.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

export interface SessionStore {
  load(): SessionRecord[];
  save(records: readonly SessionRecord[]): void;
}

export function fileSessionStore(dataDir: string): SessionStore {
  const file = join(dataDir, 'sessions.json');
  return {
    load() {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as SessionRecord[];
      } catch {
        return [];
      }
    },
    save(records) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(`${file}.tmp`, JSON.stringify(records), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    },
  };
}

/** For unit tests: keeps the table in memory. */
export function memorySessionStore(initial: SessionRecord[] = []): SessionStore & { records: SessionRecord[] } {
  const store = {
    records: [...initial],
    load: () => structuredClone(store.records),
    save: (r: readonly SessionRecord[]) => void (store.records = structuredClone([...r])),
  };
  return store;
}
