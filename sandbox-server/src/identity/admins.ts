// Who becomes an admin: the usernames in DOCKYARD_ADMINS, or else a fresh install's first account.
// At start-up the server says which, so the person hosting it knows how to get in.
import type { Store } from '../store/store.ts';

/**
 * What start-up prints about admins: how to become one while there is none, else nothing.
 * `admins` is DOCKYARD_ADMINS; `accountUrl` the page where accounts are made.
 */
export async function adminNotice(store: Store, admins: readonly string[], accountUrl: string): Promise<string[]> {
  const { accounts, admins: count } = await store.accountCounts();
  if (count > 0) return [];
  if (admins.length) {
    return [
      `No admin has signed in yet: ${admins.join(', ')} (DOCKYARD_ADMINS) become admin on signing up or in at ${accountUrl}`,
    ];
  }
  if (accounts === 0) {
    return [
      `No admin yet: the first account created at ${accountUrl} becomes the admin.`,
      'To choose who instead, set DOCKYARD_ADMINS=<username> before anyone signs up.',
    ];
  }
  return [
    'No admin yet, and accounts exist: set DOCKYARD_ADMINS=<username> and restart;',
    'that account becomes admin when it next signs in.',
  ];
}
