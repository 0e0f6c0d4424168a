// Session rules with a fake driver and a fake clock: ownership, capacity, pool, expiry, adoption.
import { describe, expect, it, vi } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import { ApiError } from '../errors.ts';
import { nodeKey, SERVER_LABEL, SessionManager, type SessionEvent, type SessionSettings } from './session-manager.ts';
import { memorySessionStore, type SessionRecord } from './session-store.ts';
import { localNotifier } from '../store/notifications.ts';
import { WarmPool } from './warm-pool.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const settings: SessionSettings = {
  instanceId: 'me',
  sessionTtlMs: 60_000,
  idleTimeoutMs: 30_000,
  expiryWarningMs: 10_000,
  maxSandboxes: 2,
  warmPoolSize: 0,
  maxNodes: 3,
  reaperIntervalMs: 1000,
  limits: { memoryBytes: 1, cpus: 1, pids: 64, storageBytes: 1 },
};

function setup(over: Partial<SessionSettings> = {}, records: SessionRecord[] = []) {
  const driver = new FakeDriver();
  const store = memorySessionStore(records);
  const clock = { t: 1_000_000 };
  const sessions = new SessionManager({
    driver,
    store,
    settings: { ...settings, ...over },
    log: quiet,
    now: () => clock.t,
  });
  return { driver, store, clock, sessions };
}

const code = async (p: Promise<unknown>) =>
  (
    (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as ApiError
  ).code;

describe('SessionManager', () => {
  it('gives an owner one session, and hides it from others as not found', async () => {
    const { sessions } = setup();
    await sessions.start();
    const a = await sessions.create('alice');
    expect(a.created).toBe(true);
    expect((await sessions.create('alice')).session.id).toBe(a.session.id);
    expect(() => sessions.owned(a.session.id, 'bob')).toThrow(ApiError);
    expect(sessions.listFor('bob')).toEqual([]);
  });

  it('makes one sandbox for an owner whom two servers (or two requests) ask for at once', async () => {
    // Two servers on one store: the same table, a driver each on the same engine.
    const driver = new FakeDriver();
    const store = memorySessionStore();
    const server = () => new SessionManager({ driver, store, settings: { ...settings, maxSandboxes: 5 }, log: quiet });
    const [one, two] = [server(), server()];
    await one.start();
    await two.start();
    const answers = await Promise.all([one.create('alice'), two.create('alice'), one.create('alice')]);
    expect(new Set(answers.map((a) => a.session.id)).size).toBe(1);
    expect(answers.filter((a) => a.created)).toHaveLength(1);
    expect(driver.created).toHaveLength(1);
    expect(store.records).toHaveLength(1);
    // Both servers know it now.
    expect(two.sandboxOf(answers[0]!.session.id)).toBe(one.sandboxOf(answers[0]!.session.id));
  });

  it("tells a server's learners what another server did to their session: a node added, the end and why", async () => {
    const driver = new FakeDriver();
    const store = memorySessionStore();
    const notifier = localNotifier(`sessions-${Math.random()}`);
    const clock = { t: 1_000_000 };
    // The first server to ask holds the reaper's lease (the store's own is tested on both databases).
    let holder: string | undefined;
    const leases = {
      acquire: async (_name: string, who: string) => (holder ??= who) === who,
      release: async (_name: string, who: string) => void (holder === who && (holder = undefined)),
    };
    const server = (replicaId: string) =>
      new SessionManager({
        driver,
        store,
        notifier,
        leases,
        settings: { ...settings, replicaId, maxSandboxes: 5 },
        log: quiet,
        now: () => clock.t,
      });
    const [reaper, other] = [server('a'), server('b')];
    await reaper.start();
    await other.start();
    try {
      const { session } = await other.create('alice');
      const events: SessionEvent[] = [];
      other.subscribe(session.id, (e) => events.push(e));
      await vi.waitFor(() => expect(reaper.viewOf(session.id)).toBeDefined());
      await reaper.addNode(session.id);
      await vi.waitFor(() => expect(events.at(-1)?.nodes).toEqual(['node1', 'node2']));
      // Nobody types for longer than the idle timeout: the reaper's server ends it.
      clock.t += settings.idleTimeoutMs + 1;
      await reaper.reap();
      await vi.waitFor(() => expect(events.at(-1)).toMatchObject({ state: 'expired', reason: 'idle' }));
      expect(other.viewOf(session.id)).toBeUndefined();
    } finally {
      await other.stop();
      await reaper.stop();
    }
  });

  it('refuses creation past capacity with a retry time, and labels sandboxes with the server', async () => {
    const { sessions, driver } = setup();
    await sessions.start();
    await sessions.create('a');
    await sessions.create('b');
    const err = await sessions.create('c').catch((e: ApiError) => e);
    expect((err as ApiError).code).toBe('OUT_OF_CAPACITY');
    expect((err as ApiError).extra.retryAfterSeconds).toBe(30);
    expect(driver.created[0]!.labels).toMatchObject({
      [SERVER_LABEL]: 'me',
      'org.dockyard.owner-id': 'a',
      'org.dockyard.expires': new Date(1_000_000 + 60_000).toISOString(),
    });
    expect(driver.created[0]!.labels!['org.dockyard.session']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reports a driver failure as SANDBOX_FAILED, never as a learner error', async () => {
    const { sessions, driver } = setup();
    await sessions.start();
    driver.failNext = 1;
    expect(await code(sessions.create('a'))).toBe('SANDBOX_FAILED');
    expect(sessions.inUse()).toBe(0);
  });

  it('warns before the idle deadline, resets the warning on activity, then ends the session', async () => {
    const { sessions, clock, driver } = setup();
    await sessions.start();
    const { session } = await sessions.create('a');
    const events: SessionEvent[] = [];
    sessions.subscribe(session.id, (e) => events.push(e));
    clock.t += 21_000;
    await sessions.reap();
    expect(events.at(-1)).toMatchObject({ state: 'expiring' });
    sessions.touch(session.id);
    expect(events.at(-1)).toMatchObject({ state: 'ready' });
    clock.t += 30_001;
    await sessions.reap();
    expect(events.at(-1)).toMatchObject({ state: 'expired', reason: 'idle' });
    expect(driver.sandboxes.size).toBe(0);
  });

  it('ends a session at its TTL even when it is busy, unless it was extended', async () => {
    const { sessions, clock } = setup();
    await sessions.start();
    const a = (await sessions.create('a')).session;
    const b = (await sessions.create('b')).session;
    sessions.extend(b.id);
    for (let i = 0; i < 7; i++) {
      clock.t += 10_000;
      sessions.touch(a.id);
      sessions.touch(b.id);
      await sessions.reap();
    }
    expect(sessions.viewOf(a.id)).toBeUndefined();
    expect(sessions.viewOf(b.id)).toBeDefined();
  });

  it('hands out pool sandboxes first and refills the pool', async () => {
    const { sessions, driver } = setup({ warmPoolSize: 1, maxSandboxes: 3 });
    await sessions.start();
    await sessions.pool.idle();
    const warm = [...driver.sandboxes.values()].find((s) => s.labels[WarmPool.LABEL] === 'warm')!;
    const { session } = await sessions.create('a');
    expect(sessions.sandboxOf(session.id)).toBe(warm.id);
    await sessions.pool.idle();
    expect(sessions.pool.ready()).toBe(1);
    expect(driver.sandboxes.size).toBe(2);
    // Stopping drains the pool and keeps the session's sandbox for the next start.
    await sessions.stop();
    expect([...driver.sandboxes.keys()]).toEqual([sessions.sandboxOf(session.id)]);
  });

  it('ends the sessions of lost sandboxes, saying so, and replaces a lost pool sandbox; others carry on', async () => {
    const { sessions, driver } = setup({ warmPoolSize: 1, maxSandboxes: 4 });
    await sessions.start();
    await sessions.pool.idle();
    const a = (await sessions.create('a')).session;
    const b = (await sessions.create('b')).session;
    await sessions.pool.idle();
    const warm = [...driver.sandboxes.values()].find(
      (s) =>
        s.labels[WarmPool.LABEL] === 'warm' && s.id !== sessions.sandboxOf(a.id) && s.id !== sessions.sandboxOf(b.id),
    )!;
    const events: SessionEvent[] = [];
    sessions.subscribe(a.id, (e) => events.push(e));
    const aSandbox = sessions.sandboxOf(a.id);
    driver.lostOnes.set(aSandbox, 'its host node2 is down');
    driver.lostOnes.set(warm.id, 'its host node2 is down');
    await sessions.endLost();
    expect(events).toEqual([expect.objectContaining({ state: 'expired', reason: 'lost' })]);
    expect(sessions.viewOf(a.id)).toBeUndefined();
    expect(driver.sandboxes.has(aSandbox)).toBe(false);
    expect(sessions.viewOf(b.id)?.state).toBe('ready');
    // The lost pool sandbox is removed and another started in its place.
    await sessions.pool.idle();
    expect(driver.sandboxes.has(warm.id)).toBe(false);
    expect(sessions.pool.ready()).toBe(1);
    await sessions.stop();
  });

  it('adopts recorded sessions whose sandbox lives, drops the rest, and removes only its own orphans', async () => {
    const rec = (id: string, sandboxId: string): SessionRecord => ({
      id,
      ownerId: `o-${id}`,
      sandboxId,
      createdAt: 1,
      lastActivityAt: 1_000_000,
      expiresAt: 2_000_000,
    });
    const { sessions, driver } = setup({}, [rec('s1', 'box1'), rec('s2', 'gone')]);
    await driver.create({ id: 'box1', limits: settings.limits, labels: { [SERVER_LABEL]: 'me' } });
    await driver.create({ id: 'orphan', limits: settings.limits, labels: { [SERVER_LABEL]: 'me' } });
    await driver.create({ id: 'theirs', limits: settings.limits, labels: { [SERVER_LABEL]: 'other' } });
    await sessions.start();
    expect(sessions.viewOf('s1')).toBeDefined();
    expect(sessions.viewOf('s2')).toBeUndefined();
    expect([...driver.sandboxes.keys()].sort()).toEqual(['box1', 'theirs']);
  });

  it('resets into a new sandbox, announcing creating then ready', async () => {
    const { sessions, driver } = setup({ maxSandboxes: 1 });
    await sessions.start();
    const { session } = await sessions.create('a');
    const old = sessions.sandboxOf(session.id);
    const states: string[] = [];
    sessions.subscribe(session.id, (e) => states.push(e.state));
    await sessions.reset(session.id);
    expect(states).toEqual(['creating', 'ready']);
    expect(driver.sandboxes.has(old)).toBe(false);
    expect(driver.sandboxes.size).toBe(1);
  });

  it('ends the session when a reset cannot get a new sandbox, and says why', async () => {
    const { sessions, driver } = setup();
    await sessions.start();
    const { session } = await sessions.create('a');
    driver.failNext = 1;
    expect(await code(sessions.reset(session.id))).toBe('SANDBOX_FAILED');
    expect(sessions.viewOf(session.id)).toBeUndefined();
    expect(driver.sandboxes.size).toBe(0);
  });

  describe('nodes', () => {
    it('adds nodes by the lowest free name on one peer network, up to the maximum, leaving the others as they are', async () => {
      const { sessions, driver } = setup({ maxSandboxes: 5, maxNodes: 3 });
      await sessions.start();
      const { session } = await sessions.create('a');
      const first = sessions.sandboxOf(session.id);
      expect(session.nodes).toEqual(['node1']);
      const events: SessionEvent[] = [];
      sessions.subscribe(session.id, (e) => events.push(e));
      expect((await sessions.addNode(session.id)).node).toBe('node2');
      const added = await sessions.addNode(session.id);
      expect(added.node).toBe('node3');
      expect(added.session.nodes).toEqual(['node1', 'node2', 'node3']);
      expect(events.at(-1)?.nodes).toEqual(['node1', 'node2', 'node3']);
      const net = driver.peerNetworks.get(session.id)!;
      expect([...net.members.values()].sort()).toEqual(['node1', 'node2', 'node3']);
      expect(net.members.get(first)).toBe('node1');
      expect(driver.ran.filter((c) => c[0] === 'hostname').map((c) => c[1])).toEqual(['node1', 'node2', 'node3']);
      expect(sessions.sandboxOf(nodeKey(session.id, 'node3'))).not.toBe(first);
      expect(await code(sessions.addNode(session.id))).toBe('TOO_MANY_NODES');
      expect(sessions.viewOf(session.id)!.nodes).toEqual(['node1', 'node2', 'node3']);
      expect(driver.sandboxes.size).toBe(3);
      // Removing node2 frees its name and its slot; the next node takes the name again.
      await sessions.removeNode(session.id, 'node2');
      expect(driver.sandboxes.size).toBe(2);
      expect(sessions.inUse()).toBe(2);
      expect(sessions.viewOf(nodeKey(session.id, 'node2'))).toBeUndefined();
      expect(await code(Promise.resolve().then(() => sessions.sandboxOf(nodeKey(session.id, 'node2'))))).toBe(
        'NODE_NOT_FOUND',
      );
      expect((await sessions.addNode(session.id)).node).toBe('node2');
      expect(await code(sessions.removeNode(session.id, 'node1'))).toBe('FIRST_NODE_STAYS');
      expect(await code(sessions.removeNode(session.id, 'node7'))).toBe('NODE_NOT_FOUND');
    });

    it('makes a node beside the first on a driver that spreads sandboxes over hosts, not from the pool', async () => {
      for (const spread of [false, true]) {
        const { sessions, driver } = setup({ maxSandboxes: 5, warmPoolSize: 1 });
        driver.spread = spread;
        await sessions.start();
        await sessions.pool.idle();
        const { session } = await sessions.create('a');
        await sessions.pool.idle();
        const warm = [...driver.sandboxes.values()].find(
          (x) => x.labels[WarmPool.LABEL] === 'warm' && x.id !== sessions.sandboxOf(session.id),
        )!;
        await sessions.addNode(session.id);
        const node2 = sessions.sandboxOf(nodeKey(session.id, 'node2'));
        // On one host the pool's sandbox serves; over several, a new one is made near node1.
        expect(node2 === warm.id).toBe(!spread);
        expect(driver.created.find((c) => c.id === node2)?.near).toBe(
          spread ? sessions.sandboxOf(session.id) : undefined,
        );
        await sessions.stop();
      }
    });

    it('counts nodes against capacity, and two clicks at once cannot pass the maximum', async () => {
      const { sessions } = setup({ maxSandboxes: 3, maxNodes: 5 });
      await sessions.start();
      const { session } = await sessions.create('a');
      await sessions.create('b');
      expect(sessions.inUse()).toBe(2);
      await sessions.addNode(session.id);
      expect(sessions.inUse()).toBe(3);
      const err = (await sessions.addNode(session.id).catch((e: unknown) => e)) as ApiError;
      expect(err.code).toBe('OUT_OF_CAPACITY');
      expect(err.extra.retryAfterSeconds).toBeGreaterThan(0);
      expect(sessions.viewOf(session.id)!.nodes).toEqual(['node1', 'node2']);

      const { sessions: other } = setup({ maxSandboxes: 10, maxNodes: 2 });
      await other.start();
      const s = (await other.create('c')).session;
      const both = await Promise.allSettled([other.addNode(s.id), other.addNode(s.id)]);
      expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(other.inUse()).toBe(2);
    });

    it('removes a node that cannot join, and keeps the others', async () => {
      const { sessions, driver } = setup({ maxSandboxes: 5 });
      await sessions.start();
      const { session } = await sessions.create('a');
      await sessions.addNode(session.id);
      driver.onExec = (cmd) =>
        cmd[0] === 'hostname' ? { exitCode: 1, stdout: '', stderr: 'denied' } : { exitCode: 0, stdout: '', stderr: '' };
      expect(await code(sessions.addNode(session.id))).toBe('SANDBOX_FAILED');
      expect(sessions.viewOf(session.id)!.nodes).toEqual(['node1', 'node2']);
      expect(driver.sandboxes.size).toBe(2);
      expect(sessions.inUse()).toBe(2);
    });

    it('ends every node and the network with the session, and a reset starts over with one node', async () => {
      const { sessions, driver, clock } = setup({ maxSandboxes: 5 });
      await sessions.start();
      const { session } = await sessions.create('a');
      await sessions.addNode(session.id);
      await sessions.addNode(session.id);
      await sessions.reset(session.id);
      expect(sessions.viewOf(session.id)!.nodes).toEqual(['node1']);
      expect(driver.sandboxes.size).toBe(1);
      expect(driver.peerNetworks.size).toBe(0);
      await sessions.addNode(session.id);
      expect(driver.peerNetworks.size).toBe(1);
      // Expiry (the reaper) removes everything.
      clock.t += 31_000;
      await sessions.reap();
      expect(sessions.viewOf(session.id)).toBeUndefined();
      expect(driver.sandboxes.size).toBe(0);
      expect(driver.peerNetworks.size).toBe(0);
    });

    it('adopts the nodes that live after a restart, and removes networks of sessions that are gone', async () => {
      const base = { ownerId: 'o', createdAt: 1, lastActivityAt: 1_000_000, expiresAt: 2_000_000 };
      const records: SessionRecord[] = [
        {
          ...base,
          id: 's1',
          sandboxId: 'n1',
          peered: true,
          nodes: [
            { name: 'node2', sandboxId: 'n2' },
            { name: 'node3', sandboxId: 'n3-gone' },
          ],
        },
      ];
      const { sessions, driver } = setup({ maxSandboxes: 5, warmPoolSize: 1 }, records);
      await driver.create({ id: 'n1', limits: settings.limits, labels: { [SERVER_LABEL]: 'me' } });
      // node2 came from the warm pool, and keeps its label: it is the session's, not the pool's.
      const warm = { [SERVER_LABEL]: 'me', [WarmPool.LABEL]: 'warm' };
      await driver.create({ id: 'n2', limits: settings.limits, labels: warm });
      await driver.createPeerNetwork('s1', { [SERVER_LABEL]: 'me' });
      await driver.createPeerNetwork('gone-session', { [SERVER_LABEL]: 'me' });
      await driver.createPeerNetwork('their-session', { [SERVER_LABEL]: 'other' });
      await sessions.start();
      expect(sessions.viewOf('s1')!.nodes).toEqual(['node1', 'node2']);
      expect(sessions.sandboxOf(nodeKey('s1', 'node2'))).toBe('n2');
      expect(await sessions.pool.known()).not.toContain('n2');
      await sessions.stop();
      expect([...driver.sandboxes.keys()].sort()).toEqual(['n1', 'n2']);
      expect([...driver.peerNetworks.keys()].sort()).toEqual(['s1', 'their-session']);
    });

    it('forms a template Swarm: adds the nodes, inits on node1, joins the others, reporting each step', async () => {
      const { sessions, driver } = setup({ maxSandboxes: 6, maxNodes: 5 });
      await sessions.start();
      const { session } = await sessions.create('a');
      const ran: string[] = [];
      driver.onExec = (cmd) => {
        ran.push(cmd.join(' '));
        const out = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
        if (cmd.includes('info')) return out('inactive false');
        if (cmd.includes('join-token')) return out(`TOKEN-${cmd.at(-1)}`);
        return out('');
      };
      const progress: string[] = [];
      sessions.subscribe(
        session.id,
        (e) => e.progress && progress.push(`${e.progress.step}/${e.progress.of} ${e.progress.title}`),
      );
      const view = await sessions.applyTemplate(session.id, 'swarm-1-2');
      expect(view.nodes).toEqual(['node1', 'node2', 'node3']);
      expect(ran).toContain('/usr/bin/docker swarm init --advertise-addr eth1');
      expect(
        ran.filter((c) => c.includes('swarm join --advertise-addr eth1 --token TOKEN-worker node1:2377')),
      ).toHaveLength(2);
      expect(progress[0]).toBe('1/6 Starting node2');
      expect(progress.at(-1)).toBe('6/6 Ready: 1 manager + 2 workers');
    });
  });
});
