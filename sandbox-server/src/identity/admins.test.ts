import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../store/database.ts';
import { Store } from '../store/store.ts';
import { adminNotice } from './admins.ts';

let dir: string;
let database: Database;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dockyard-admins-'));
  database = await openDatabase({ dataDir: dir });
  store = new Store(database.db);
});
afterEach(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An account as sign-up makes one: better-auth's row, then Dockyard's user linked to it. */
async function account(name: string) {
  const authId = `auth-${name}`;
  const now = new Date().toISOString();
  await sql`insert into auth_user (id, name, email, "emailVerified", "createdAt", "updatedAt")
    values (${authId}, ${name}, ${`${name}@example.org`}, ${0}, ${now}, ${now})`.execute(database.db);
  const user = await store.createUser({ username: name, displayName: name });
  return store.linkAccount(user.id, { authId, username: name, email: null, displayName: name });
}

describe('the first admin', () => {
  it("is a fresh install's first account, and only it", async () => {
    await store.ensureGuest(crypto.randomUUID()); // a guest is no account
    const first = await account('first');
    expect(await store.claimFirstAdmin(first.id)).toBe(true);
    expect((await store.getUser(first.id))?.role).toBe('admin');
    const second = await account('second');
    expect(await store.claimFirstAdmin(second.id)).toBe(false);
    expect((await store.getUser(second.id))?.role).toBe('learner');
  });

  it('is nobody on an install that already has accounts', async () => {
    await account('old');
    const late = await account('late');
    expect(await store.claimFirstAdmin(late.id)).toBe(false);
  });
});

describe('adminNotice', () => {
  const url = 'http://localhost:8080/account/';

  it('tells the host how to become admin while there is none', async () => {
    expect((await adminNotice(store, [], url)).join(' ')).toBe(
      `No admin yet: the first account created at ${url} becomes the admin. To choose who instead, set DOCKYARD_ADMINS=<username> before anyone signs up.`,
    );
    expect((await adminNotice(store, ['alice'], url)).join(' ')).toContain('alice (DOCKYARD_ADMINS) become admin');
    await account('someone');
    expect((await adminNotice(store, [], url)).join(' ')).toContain('set DOCKYARD_ADMINS=<username> and restart');
  });

  it('says nothing once there is an admin', async () => {
    const a = await account('boss');
    await store.setRole(a.id, 'admin');
    expect(await adminNotice(store, [], url)).toEqual([]);
  });
});
