// LeaseKeeper on a fake clock and fake leases: it renews, says once when it gains and loses the
// lease, and stops work before a lease it could not renew may have expired.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from './lease-keeper.ts';

const TTL = 30_000;
const RENEW = 10_000;

/** Leases whose every answer the test gives: 'yes', 'no', 'fail' or 'hang' (never answers). */
function fakeLeases() {
  const answers: Array<'yes' | 'no' | 'fail' | 'hang'> = [];
  const calls: number[] = [];
  const released: string[] = [];
  return {
    answers,
    calls,
    released,
    leases: {
      acquire: async (_name: string, _holder: string, ttlMs: number) => {
        expect(ttlMs).toBe(TTL);
        calls.push(Date.now());
        const a = answers.shift() ?? 'yes';
        if (a === 'fail') throw new Error('connection refused');
        if (a === 'hang') return new Promise<boolean>(() => undefined);
        return a === 'yes';
      },
      release: async (_name: string, holder: string) => void released.push(holder),
    },
  };
}

describe('LeaseKeeper', () => {
  let events: string[];
  const keeper = (leases: ReturnType<typeof fakeLeases>['leases']) =>
    new LeaseKeeper({
      leases,
      name: 'reaper',
      holder: 'me',
      ttlMs: TTL,
      renewMs: RENEW,
      onGain: () => void events.push(`gain@${Date.now()}`),
      onLoss: () => void events.push(`loss@${Date.now()}`),
    });

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    events = [];
  });
  afterEach(() => vi.useRealTimers());

  it('takes the lease at start, renews it every renewMs, and gives it up on stop (after onLoss)', async () => {
    const f = fakeLeases();
    const k = keeper(f.leases);
    k.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(k.held).toBe(true);
    await vi.advanceTimersByTimeAsync(3 * RENEW);
    expect(f.calls).toEqual([0, RENEW, 2 * RENEW, 3 * RENEW]);
    expect(events).toEqual(['gain@0']);
    await k.stop();
    expect(k.held).toBe(false);
    expect(events).toEqual(['gain@0', `loss@${3 * RENEW}`]);
    expect(f.released).toEqual(['me']);
    await vi.advanceTimersByTimeAsync(5 * RENEW);
    expect(f.calls, 'no more asking once stopped').toHaveLength(4);
  });

  it('keeps asking while another server holds it, and says so once it gets it', async () => {
    const f = fakeLeases();
    f.answers.push('no', 'no');
    const k = keeper(f.leases);
    k.start();
    await vi.advanceTimersByTimeAsync(RENEW);
    expect([k.held, events]).toEqual([false, []]);
    await vi.advanceTimersByTimeAsync(RENEW);
    expect([k.held, events]).toEqual([true, [`gain@${2 * RENEW}`]]);
    await k.stop();
  });

  it('calls onLoss once when a renewal is refused, and onGain again when it is back', async () => {
    const f = fakeLeases();
    f.answers.push('yes', 'no', 'no', 'no', 'yes');
    const k = keeper(f.leases);
    k.start();
    await vi.advanceTimersByTimeAsync(4 * RENEW);
    expect(events).toEqual(['gain@0', `loss@${RENEW}`, `gain@${4 * RENEW}`]);
    await k.stop();
  });

  it('calls onLoss at once when the database fails, once for a run of failures', async () => {
    const f = fakeLeases();
    f.answers.push('yes', 'fail', 'fail', 'fail');
    const k = keeper(f.leases);
    k.start();
    await vi.advanceTimersByTimeAsync(3 * RENEW);
    expect([k.held, events]).toEqual([false, ['gain@0', `loss@${RENEW}`]]);
    await vi.advanceTimersByTimeAsync(RENEW);
    expect([k.held, events.at(-1)]).toEqual([true, `gain@${4 * RENEW}`]);
    await k.stop();
  });

  // With renewMs above half the ttl, the lease must be given up before the next renewal is even tried.
  it.each([RENEW, 20_000])(
    'stops work before a lease it cannot renew (no answer) may have expired (renewing every %i ms)',
    async (renewMs) => {
      const f = fakeLeases();
      f.answers.push('yes', 'hang', 'hang', 'hang');
      const k = new LeaseKeeper({
        leases: f.leases,
        name: 'reaper',
        holder: 'me',
        ttlMs: TTL,
        renewMs,
        onGain: () => void events.push(`gain@${Date.now()}`),
        onLoss: () => void events.push(`loss@${Date.now()}`),
      });
      k.start();
      await vi.advanceTimersByTimeAsync(0);
      // The last renewal was at 0: the lease lasts until TTL there; the work stops a renewal earlier.
      let lostAt: number | undefined;
      for (let t = 0; t < TTL && lostAt === undefined; t += 100) {
        await vi.advanceTimersByTimeAsync(100);
        if (!k.held) lostAt = Date.now();
      }
      expect(lostAt).toBe(TTL - renewMs);
      expect(events).toEqual(['gain@0', `loss@${lostAt}`]);
      const stopped = k.stop();
      await vi.advanceTimersByTimeAsync(renewMs); // the hanging renewal times out
      await stopped;
    },
  );

  it('does not count a renewal that answered too late to be safe', async () => {
    const f = fakeLeases();
    let answer: ((ours: boolean) => void) | undefined;
    const k = new LeaseKeeper({
      leases: {
        ...f.leases,
        acquire: () => new Promise<boolean>((r) => (answer = r)),
      },
      name: 'pool',
      holder: 'me',
      ttlMs: TTL,
      // A database that takes longer than a renewal period counts as failed.
      renewMs: TTL - 1000,
      onGain: () => void events.push('gain'),
      onLoss: () => void events.push('loss'),
    });
    k.start();
    await vi.advanceTimersByTimeAsync(1500);
    answer!(true);
    await vi.advanceTimersByTimeAsync(0);
    expect([k.held, events]).toEqual([false, []]);
    await k.stop();
  });

  it('refuses a renewal period that is not shorter than the lease', () => {
    expect(
      () =>
        new LeaseKeeper({ ...fakeLeases(), name: 'x', holder: 'h', ttlMs: 10, renewMs: 10, onGain() {}, onLoss() {} }),
    ).toThrow(/renewMs \(10\) must be above 0 and below ttlMs \(10\)/);
  });
});
