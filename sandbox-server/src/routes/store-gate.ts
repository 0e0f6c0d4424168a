// A server cut off from its database says so at once to everything that needs it: every `/api/`
// request and socket is answered 504 STORE_UNREACHABLE, which a load balancer in front takes as
// "try the next server" and counts against this one (infra/compose's nginx: proxy_next_upstream
// http_504, max_fails), so learners go to a server that can serve them. /livez, /readyz, /metrics
// and the site still answer; the server opens again by itself when the database does.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';

/** How often the database is asked, and how long an answer may take, in ms. */
export const STORE_CHECK_MS = 2_000;

export interface StoreGate {
  /** Why the gate is closed (the database's error), or undefined while it is open. */
  readonly closed: string | undefined;
  /** Asks the database now (or joins the check under way); resolves with `closed`. */
  check(): Promise<string | undefined>;
  /** The same, rejecting with the reason when closed: what /readyz asks, so the two always agree. */
  ping(): Promise<void>;
}

export function storeGate(app: FastifyInstance, store: { ping(): Promise<void> }, checkMs = STORE_CHECK_MS): StoreGate {
  let closed: string | undefined;
  const check = async () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${checkMs} ms`)), checkMs);
    });
    try {
      await Promise.race([store.ping(), late]);
      if (closed) app.log.info({}, 'the database answers again: serving learners');
      closed = undefined;
    } catch (err) {
      if (!closed) app.log.warn({ err }, 'the database does not answer: not serving learners until it does');
      closed = err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
  };
  let running: Promise<void> | undefined;
  const checkNow = async () => {
    await (running ??= check().finally(() => (running = undefined)));
    return closed;
  };
  const timer = setInterval(() => void checkNow(), checkMs);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  app.addHook('onRequest', async (req) => {
    if (closed && req.url.startsWith('/api/')) throw new ApiError('STORE_UNREACHABLE', closed);
  });
  return {
    get closed() {
      return closed;
    },
    check: checkNow,
    async ping() {
      const reason = await checkNow();
      if (reason) throw new Error(reason);
    },
  };
}
