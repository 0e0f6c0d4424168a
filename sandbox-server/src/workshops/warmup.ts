// Sizes the warm pool for workshops: from `leadMs` before a workshop starts until it ends, the
// pool aims to hold a ready sandbox for every seat whose learner has none yet, so a class that
// presses Start together is not kept waiting. The fill is bounded by the host's capacity.
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';

/** Ready sandboxes wanted: the configured pool, plus each current workshop's seats without a sandbox. */
export async function poolTarget(store: Store, sessions: SessionManager, base: number, leadMs: number, now: number) {
  let wanted = base;
  for (const w of await store.workshopsAround(now, leadMs)) {
    const members = await store.membersOf(w.id);
    const withSandbox = members.filter((m) => sessions.listFor(m.userId).length > 0).length;
    wanted += Math.max(0, w.seatLimit - withSandbox);
  }
  return wanted;
}

/** Re-sizes the pool now and every `intervalMs`; returns the stop function. */
export function startWarmup(opts: {
  store: Store;
  sessions: SessionManager;
  base: number;
  leadMs: number;
  intervalMs?: number;
  log: { error(o: object, msg: string): void; info(o: object, msg: string): void };
}): () => void {
  let stopped = false;
  const tick = async () => {
    const target = await poolTarget(opts.store, opts.sessions, opts.base, opts.leadMs, Date.now());
    if (stopped || target === opts.sessions.pool.size) return;
    opts.log.info({ from: opts.sessions.pool.size, to: target }, 'warm pool resized for workshops');
    await opts.sessions.pool.resize(target);
  };
  const run = () => void tick().catch((err) => opts.log.error({ err }, 'warm pool sizing failed'));
  run();
  const timer = setInterval(run, opts.intervalMs ?? 30_000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
