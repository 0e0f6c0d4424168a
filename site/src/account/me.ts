// Who this browser is (GET /api/me): fetched once per page and shared by the header and the page's
// island, fetched again after a sign-in or sign-out. Plain fetch, not api(): a GET needs no CSRF
// token, and the header island that loads this on every lesson page stays a few hundred bytes.

import type { AccountView, Me, Role } from '@dockyard/sandbox-server/protocol/api';

export type { Me, Role };
/** This browser's user: an account, or a guest. */
export type User = AccountView;

type Listener = (me: Me | undefined) => void;
const listeners = new Set<Listener>();
let current: Promise<Me | undefined> | undefined;

/** The identity, undefined when the server cannot be reached; `fresh` asks again and tells every watcher. */
export function loadMe(fresh = false): Promise<Me | undefined> {
  if (fresh || !current) {
    const next = fetch('/api/me', { credentials: 'same-origin' })
      .then((r) => (r.ok ? (r.json() as Promise<Me>) : undefined))
      .catch(() => undefined);
    current = next;
    void next.then((me) => {
      if (current === next) for (const l of listeners) l(me);
    });
  }
  return current;
}

/** Calls `fn` with the identity once known and again whenever it changes; returns the unsubscribe. */
export function watchMe(fn: Listener): () => void {
  listeners.add(fn);
  if (current) void current.then((me) => listeners.has(fn) && fn(me));
  else void loadMe();
  return () => listeners.delete(fn);
}

export const isInstructor = (user: User | undefined) => user?.role === 'instructor' || user?.role === 'admin';
