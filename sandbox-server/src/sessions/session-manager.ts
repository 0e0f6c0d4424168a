// Sessions: who holds which sandbox and until when. Admission control, the warm pool, expiry and
// the reaper live here; the HTTP and WebSocket layers only call this.
import { randomBytes } from 'node:crypto';
import type { SandboxDriver, SandboxKernel, SandboxLimits } from '../drivers/driver.ts';
import { ApiError } from '../errors.ts';
import { checkKernelLimits } from './host-capacity.ts';
import type { SessionState } from '../protocol/messages.ts';
import type { SessionRecord, SessionStore } from './session-store.ts';
import { LeaseKeeper } from '../store/lease-keeper.ts';
import type { Leases } from '../store/leases.ts';
import type { Notifier } from '../store/notifications.ts';
import { WarmPool, type Shelf } from './warm-pool.ts';
import { formSwarm, joinAsNode, SWARM_TEMPLATES, type Node, type SwarmTemplateId } from './swarm-template.ts';

/** Label naming the deployment a sandbox belongs to; a deployment only ever reaps its own. */
export const SERVER_LABEL = 'org.dockyard.server';
/** The lease of the deployment's one reaper and one warm pool. */
export const REAPER_LEASE = 'reaper';
/** The channel that tells every server of a deployment which session changed. */
export const SESSIONS_CHANNEL = 'sessions';
/** The channel on which a server that took a warm sandbox tells the pool's server to start another. */
const POOL_CHANNEL = 'pool';
/** A session another server began to create and never finished (it died) is given up after this. */
export const PENDING_SESSION_MS = 120_000;
/** Sandboxes younger than this are not orphans yet when other servers may be creating them. */
const ORPHAN_GRACE_MS = 60_000;
/** How often the server that reaps asks the driver for sandboxes lost with their host. */
export const LOST_CHECK_MS = 5_000;
/** Activity (keystrokes) is written to the store at most this often. */
const TOUCH_FLUSH_MS = 1_000;

export interface SessionSettings {
  /** The deployment's id: labels its sandboxes; the same for every server sharing the data folder. */
  instanceId: string;
  /** This server among the deployment's: who holds the reaper's lease. Stable across its restarts. */
  replicaId?: string;
  sessionTtlMs: number;
  idleTimeoutMs: number;
  expiryWarningMs: number;
  maxSandboxes: number;
  warmPoolSize: number;
  reaperIntervalMs: number;
  limits: SandboxLimits;
  /** Nodes a session may have, node1 included (DOCKYARD_PLAYGROUND_MAX_NODES). */
  maxNodes: number;
}

/** Why a session ended (or restarted, for `reset`); `lost`: its host stopped answering. */
export type EndReason = 'ttl' | 'idle' | 'ended' | 'reset' | 'lost';

export interface SessionEvent {
  state: SessionState;
  expiresAt: number;
  reason?: EndReason;
  /** The session's nodes, when they changed. */
  nodes?: string[];
  /** Long work under way (a template forming a Swarm). */
  progress?: { title: string; step: number; of: number };
}

/** The first node of every session: its own sandbox. */
export const FIRST_NODE = 'node1';

/**
 * One string for a node of a session, for what is keyed by session (engine events, live views):
 * the session id for node1, so everything made before nodes existed reads node1, `id~node2` for others.
 */
export const nodeKey = (sessionId: string, node: string = FIRST_NODE) =>
  node === FIRST_NODE ? sessionId : `${sessionId}~${node}`;
export const splitNodeKey = (key: string): { sessionId: string; node: string } => {
  const [sessionId = '', node = FIRST_NODE] = key.split('~');
  return { sessionId, node };
};

export interface SessionView {
  id: string;
  state: SessionState;
  lesson: string | null;
  createdAt: number;
  /** When the session ends at the latest (its TTL). */
  expiresAt: number;
  /** When it ends if nothing happens before (idle timeout or TTL, whichever is first). */
  endsAt: number;
  /** Its nodes: node1, then any added (node2...). */
  nodes: string[];
  /** The kernel its sandboxes run on (lessons point out what differs under gVisor). */
  kernel: SandboxKernel;
}

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

type Listener = (e: SessionEvent) => void;

const newId = () => randomBytes(8).toString('hex');

/**
 * Labels for a sandbox created for a session, so `docker ps` tells whose it is. Pool sandboxes are
 * created before anyone owns them and labels cannot change: the session table is the record.
 */
const sessionLabels = (sessionId: string, ownerId: string, expiresAt: number) => ({
  'org.dockyard.session': sessionId,
  'org.dockyard.owner-id': ownerId,
  'org.dockyard.expires': new Date(expiresAt).toISOString(),
});

export class SessionManager {
  readonly #driver: SandboxDriver;
  readonly #store: SessionStore;
  readonly #s: SessionSettings;
  #kernel: SandboxKernel = 'host';
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #resetting = new Set<string>();
  readonly #warned = new Set<string>();
  readonly #listeners = new Map<string, Set<Listener>>();
  /** Sandboxes being created for a session right now (they count against capacity). */
  #creating = 0;
  /** Sandboxes becoming a node (joining the session's network): not orphans, though not recorded yet. */
  readonly #joining = new Set<string>();
  /** Node changes run one at a time per session, so two "add node" clicks cannot pass the limit. */
  readonly #nodeOps = new Map<string, Promise<unknown>>();
  readonly pool: WarmPool;
  #timer: NodeJS.Timeout | undefined;
  #lostTimer: NodeJS.Timeout | undefined;
  #lookingForLost = false;
  /** Tells the other servers which session changed, and hears what they changed. */
  readonly #notifier: Pick<Notifier, 'publish' | 'subscribe' | 'onReconnect'> | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  /** The reaper's lease, when other servers may share the store; without one, this server reaps. */
  readonly #lease: LeaseKeeper | undefined;
  #reaping = false;
  /** Sessions whose activity has not been written yet. */
  readonly #touched = new Set<string>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: {
    driver: SandboxDriver;
    store: SessionStore;
    settings: SessionSettings;
    log: Logger;
    now?: () => number;
    notifier?: Pick<Notifier, 'publish' | 'subscribe' | 'onReconnect'>;
    /** With other servers on the store: the leases that decide which one reaps and runs the pool. */
    leases?: Pick<Leases, 'acquire' | 'release'>;
    /** Where the warm pool's sandboxes wait for every server (the store's); in memory without it. */
    shelf?: Shelf;
  }) {
    this.#driver = opts.driver;
    this.#store = opts.store;
    this.#s = opts.settings;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#notifier = opts.notifier;
    if (opts.leases) {
      this.#lease = new LeaseKeeper({
        leases: opts.leases,
        name: REAPER_LEASE,
        holder: this.#s.replicaId ?? randomBytes(8).toString('hex'),
        // Handed over within 25 s of its holder's end: its last renewal's 20 s, and 5 s to ask again.
        ttlMs: 20_000,
        renewMs: 5_000,
        onGain: () => this.#takeOver(),
        onLoss: () => this.#handOver(),
        logger: opts.log,
      });
    }
    this.pool = new WarmPool({
      driver: this.#driver,
      ...(opts.shelf ? { shelf: opts.shelf } : {}),
      labels: { [SERVER_LABEL]: this.#s.instanceId },
      size: this.#s.warmPoolSize,
      limits: this.#s.limits,
      log: this.#log,
      hasRoom: () => this.inUse() < this.#s.maxSandboxes,
    });
  }

  /** Sandboxes counted against capacity: sessions, sandboxes being created, and the pool. */
  inUse(): number {
    let nodes = 0;
    for (const r of this.#sessions.values()) nodes += 1 + (r.nodes?.length ?? 0);
    return nodes + this.#joining.size + this.#creating + this.pool.count();
  }

  /**
   * Checks that the host's kernel limits fit the capacity (sandboxes on the local engine share them),
   * reads the deployment's sessions, and follows the other servers' changes. The server holding the
   * reaper's lease (this one, without other servers) re-adopts what a previous run left, removes
   * what nobody owns, ends what is due and runs the warm pool.
   */
  async start(): Promise<void> {
    this.#kernel = await this.#driver.kernel();
    const { maxSandboxes, limits } = this.#s;
    if (this.#driver.name === 'docker') await checkKernelLimits({ maxSandboxes, ...limits });
    await this.#reload();
    if (this.#notifier) {
      this.#unsubscribe.push(
        this.#notifier.subscribe(SESSIONS_CHANNEL, (p) => {
          const { id, from, ended } = p as { id: string; from: string; ended?: EndReason };
          if (from !== this.#self) void this.#refresh(id, ended);
        }),
        this.#notifier.onReconnect(() => void this.#reload()),
        this.#notifier.subscribe(POOL_CHANNEL, () => this.#fillPool()),
      );
    }
    this.#timer = setInterval(() => void this.reap(), this.#s.reaperIntervalMs);
    this.#timer.unref();
    this.#lostTimer = setInterval(() => void this.endLost(), LOST_CHECK_MS);
    this.#lostTimer.unref();
    if (this.#lease) await this.#lease.start();
    else await this.#takeOver();
  }

  /** Who this server is on the notification channel (its own changes are not news to it). */
  readonly #self = randomBytes(8).toString('hex');

  /** Stops timers and the pool (drained when this server is alone); session sandboxes stay for the next start. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#lostTimer);
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#flushTouches();
    if (this.#lease) await this.#lease.stop();
    else await this.pool.drain();
  }

  /** The deployment's sessions, as the store has them now (those with a sandbox). */
  async #reload(): Promise<void> {
    const records = await this.#store.load();
    const live = new Set(records.map((r) => r.id));
    for (const r of records) {
      if (!r.sandboxId) continue;
      const mine = this.#sessions.get(r.id);
      if (mine) this.#apply(mine, r);
      else this.#sessions.set(r.id, r);
    }
    for (const id of [...this.#sessions.keys()]) if (!live.has(id)) this.#gone(id);
  }

  /** Another server changed session `id` (or ended it, for `ended`): read it again. */
  async #refresh(id: string, ended?: EndReason): Promise<void> {
    const r = await this.#store.get(id).catch(() => undefined);
    if (!r) return this.#gone(id, ended);
    if (!r.sandboxId) return;
    const mine = this.#sessions.get(id);
    if (!mine) return void this.#sessions.set(id, r);
    const nodesBefore = this.#nodes(mine).join();
    this.#apply(mine, r);
    if (this.#nodes(mine).join() !== nodesBefore) this.#tell(mine, { nodes: this.#nodes(mine) });
  }

  /** Makes `mine` what the store holds (the same object: work under way here keeps its reference). */
  #apply(mine: SessionRecord, r: SessionRecord): void {
    const lastActivityAt = Math.max(mine.lastActivityAt, r.lastActivityAt);
    for (const k of Object.keys(mine) as (keyof SessionRecord)[]) if (!(k in r)) delete mine[k];
    Object.assign(mine, r, { lastActivityAt });
  }

  /** A session another server ended: its listeners here are told, and why when it said. */
  #gone(id: string, reason: EndReason = 'ended'): void {
    const r = this.#sessions.get(id);
    if (!r) return;
    this.#sessions.delete(id);
    this.#warned.delete(id);
    this.#emit(r, { state: 'expired', expiresAt: this.#now(), reason });
    this.#listeners.delete(id);
  }

  /**
   * Reads a session this server has not heard of yet (made by another server a moment ago), so
   * that the next calls find it. Cheap when it is known.
   */
  async ensure(id: string): Promise<void> {
    if (this.#sessions.has(id)) return;
    const r = await this.#store.get(id);
    if (r?.sandboxId && !this.#sessions.has(id)) this.#sessions.set(id, r);
  }

  /** This server now runs the deployment's reaper and pool: adopt, sweep, fill. */
  async #takeOver(): Promise<void> {
    await this.#reload();
    const sandboxes = await this.#ownSandboxes();
    const alive = new Set(sandboxes.map((s) => s.id));
    for (const r of [...this.#sessions.values()]) {
      if (!alive.has(r.sandboxId)) {
        this.#sessions.delete(r.id);
        await this.#write(r.id, undefined);
        continue;
      }
      if (r.nodes?.some((n) => !alive.has(n.sandboxId))) {
        r.nodes = r.nodes.filter((n) => alive.has(n.sandboxId));
        await this.#write(r.id, r);
      }
    }
    // A sandbox taken from the pool keeps its pool label (labels cannot change): one a session
    // holds, as its first node or another, is the session's.
    const held = new Set([...this.#sessions.values()].flatMap((r) => this.#sandboxes(r)));
    const adopted = await this.pool.adopt(
      sandboxes.filter((s) => s.labels[WarmPool.LABEL] === 'warm' && !held.has(s.id)),
    );
    // Alone, nothing is in flight yet: whatever is unaccounted for is an orphan, however young.
    // Other servers may be creating sandboxes right now: theirs get the grace.
    const removed = await this.#removeOrphans(this.#lease ? ORPHAN_GRACE_MS : 0);
    this.#reaping = true;
    this.#log.info({ sessions: this.#sessions.size, pool: adopted, orphansRemoved: removed }, 'reaper and pool taken');
    this.pool.fill();
  }

  /** Another server runs the reaper and pool from now on (or may: the lease could not be renewed). */
  #handOver(): void {
    this.#reaping = false;
    this.pool.pause();
    this.#log.info({}, 'reaper and pool handed over');
  }

  /** Fills the pool, when this server runs it. */
  #fillPool(): void {
    if (this.#reaping) this.pool.fill();
  }

  /**
   * The owner's live session, or a new one (from the pool when it has one). The store records it
   * before its sandbox is made, one per owner: two servers asked at once make one sandbox, and the
   * second answers with the first's session once it is ready.
   */
  async create(ownerId: string, lesson?: string): Promise<{ session: SessionView; created: boolean }> {
    const existing = [...this.#sessions.values()].find((r) => r.ownerId === ownerId);
    if (existing) {
      this.touch(existing.id);
      return { session: this.view(existing), created: false };
    }
    const now = this.#now();
    const record: SessionRecord = {
      id: newId(),
      ownerId,
      sandboxId: '', // none yet: the others wait for it
      ...(lesson ? { lesson } : {}),
      createdAt: now,
      lastActivityAt: now,
      expiresAt: now + this.#s.sessionTtlMs,
    };
    const theirs = await this.#store.claim(record);
    if (theirs) return { session: this.view(await this.#awaitSandbox(theirs, record)), created: false };
    try {
      record.sandboxId = await this.#acquireSandbox(sessionLabels(record.id, ownerId, record.expiresAt));
    } catch (err) {
      await this.#store.remove(record.id).catch(() => undefined);
      throw err;
    }
    this.#sessions.set(record.id, record);
    await this.#write(record.id, record);
    return { session: this.view(record), created: true };
  }

  /**
   * The owner's session another server (or request) is making: waits until its sandbox is there.
   * One whose maker died (no sandbox after PENDING_SESSION_MS) is given up, and ours takes its place.
   */
  async #awaitSandbox(theirs: SessionRecord, ours: SessionRecord): Promise<SessionRecord> {
    for (let r: SessionRecord | undefined = theirs; ; r = await this.#store.get(theirs.id)) {
      if (!r) return this.#retryCreate(ours);
      if (r.sandboxId) {
        await this.ensure(r.id);
        return this.#sessions.get(r.id) ?? r;
      }
      if (this.#now() - r.createdAt > PENDING_SESSION_MS) {
        this.#log.warn({ id: r.id }, 'gave up a session whose server never made its sandbox');
        await this.#store.remove(r.id);
        return this.#retryCreate(ours);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #retryCreate(ours: SessionRecord): Promise<SessionRecord> {
    const { session } = await this.create(ours.ownerId, ours.lesson);
    return this.#sessions.get(session.id)!;
  }

  /**
   * A sandbox from the pool, else a new one if there is room, else OUT_OF_CAPACITY. One `near`
   * another (a session's node) is made beside it when the driver spreads sandboxes over hosts.
   */
  async #acquireSandbox(labels: Record<string, string>, replacing = false, near?: string): Promise<string> {
    const placed = near !== undefined && this.#driver.spread;
    const warm = placed
      ? undefined
      : await this.pool.take().catch((err: unknown) => {
          this.#log.warn({ err }, 'the warm pool could not be read; starting a sandbox instead');
          return undefined;
        });
    if (warm) {
      // The server that runs the pool (this one, or another) starts one in its place.
      if (this.#reaping) this.pool.fill();
      else void this.#notifier?.publish(POOL_CHANNEL, {}).catch(() => undefined);
      return warm;
    }
    // A reset replaces the session's own sandbox (already removed): its slot is free again.
    if (this.inUse() - (replacing ? 1 : 0) >= this.#s.maxSandboxes) {
      throw new ApiError('OUT_OF_CAPACITY', `This host runs at most ${this.#s.maxSandboxes} sandboxes.`, {
        retryAfterSeconds: this.retryAfterSeconds(),
      });
    }
    const id = newId();
    this.#creating++;
    try {
      await this.#driver.create({
        id,
        limits: this.#s.limits,
        labels: { [SERVER_LABEL]: this.#s.instanceId, ...labels },
        ...(placed ? { near } : {}),
      });
      return id;
    } catch (err) {
      // The driver's own refusal (no room on the host's disk) is said as it is, with a time to retry.
      if (err instanceof ApiError && err.code === 'OUT_OF_CAPACITY') {
        this.#log.warn({ reason: err.message }, 'sandbox refused');
        throw new ApiError(err.code, err.message, { retryAfterSeconds: this.retryAfterSeconds() });
      }
      this.#log.error({ err }, 'sandbox creation failed');
      throw new ApiError('SANDBOX_FAILED', (err as Error).message);
    } finally {
      this.#creating--;
    }
  }

  /** Seconds until the soonest session ends, clamped to something a person can wait. */
  retryAfterSeconds(): number {
    const soonest = Math.min(...[...this.#sessions.values()].map((r) => this.#endsAt(r)), this.#now() + 60_000);
    return Math.min(600, Math.max(5, Math.ceil((soonest - this.#now()) / 1000)));
  }

  /** The session if it belongs to this owner; otherwise SESSION_NOT_FOUND (never "forbidden": ids stay unguessable). */
  owned(id: string, ownerId: string): SessionRecord {
    const r = this.#sessions.get(id);
    if (!r || r.ownerId !== ownerId) throw new ApiError('SESSION_NOT_FOUND');
    return r;
  }

  listFor(ownerId: string): SessionView[] {
    return [...this.#sessions.values()].filter((r) => r.ownerId === ownerId).map((r) => this.view(r));
  }

  /** The session, if it exists; given a node key (nodeKey), only while that node exists too. */
  viewOf(key: string): SessionView | undefined {
    const { sessionId, node } = splitNodeKey(key);
    const r = this.#sessions.get(sessionId);
    return r && this.#nodes(r).includes(node) ? this.view(r) : undefined;
  }

  /** Who holds a session (for their progress); SESSION_NOT_FOUND when it is gone. */
  ownerOf(id: string): string {
    const r = this.#sessions.get(id);
    if (!r) throw new ApiError('SESSION_NOT_FOUND');
    return r.ownerId;
  }

  /** The sandbox of a session's node, by node key (nodeKey): a session id alone is its node1. */
  sandboxOf(key: string): string {
    const { sessionId, node } = splitNodeKey(key);
    const r = this.#sessions.get(sessionId);
    if (!r) throw new ApiError('SESSION_NOT_FOUND');
    if (node === FIRST_NODE) return r.sandboxId;
    const found = r.nodes?.find((n) => n.name === node);
    if (!found) throw new ApiError('NODE_NOT_FOUND', `This session has no ${node}.`);
    return found.sandboxId;
  }

  /** The sandboxes of every node of a session, node1's first; none when it is gone. */
  sandboxesOf(sessionId: string): string[] {
    const r = this.#sessions.get(sessionId);
    return r ? this.#allNodes(r).map((n) => n.sandboxId) : [];
  }

  /** Every node of a session, node1 (its own sandbox) first: the one list names and sandboxes come from. */
  #allNodes(r: SessionRecord): Node[] {
    return [{ name: FIRST_NODE, sandboxId: r.sandboxId }, ...(r.nodes ?? [])];
  }

  #nodes(r: SessionRecord): string[] {
    return this.#allNodes(r).map((n) => n.name);
  }

  /** Tells the session's listeners of a change, with its state and end as they are now. */
  #tell(r: SessionRecord, change: Partial<SessionEvent>): void {
    this.#emit(r, { state: this.#state(r), expiresAt: this.#endsAt(r), ...change });
  }

  /** Runs node changes of one session one after the other. */
  #serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.#nodeOps.get(id) ?? Promise.resolve();
    const next = before.then(work, work);
    const settled = next.catch(() => undefined);
    this.#nodeOps.set(id, settled);
    void settled.then(() => this.#nodeOps.get(id) === settled && this.#nodeOps.delete(id));
    return next;
  }

  /**
   * Adds a node (another sandbox) to the session, named after the lowest free number (node2...),
   * on the session's private network with the others. Past the session's maximum, TOO_MANY_NODES;
   * on a full host, OUT_OF_CAPACITY; a node that cannot join is removed and SANDBOX_FAILED says
   * why. The existing nodes are untouched either way.
   */
  addNode(id: string): Promise<{ session: SessionView; node: string }> {
    return this.#serial(id, async () => {
      const r = this.#sessions.get(id);
      if (!r) throw new ApiError('SESSION_NOT_FOUND');
      this.checkRoomForNode(id);
      const names = this.#nodes(r);
      let n = 2;
      while (names.includes(`node${n}`)) n++;
      const name = `node${n}`;
      const sandboxId = await this.#acquireSandbox(
        { ...sessionLabels(r.id, r.ownerId, r.expiresAt), 'org.dockyard.node': name },
        false,
        r.sandboxId,
      );
      this.#joining.add(sandboxId);
      try {
        if (this.#sessions.get(id) !== r) throw new ApiError('SESSION_NOT_FOUND');
        if (!r.peered) {
          await this.#driver.createPeerNetwork(r.id, { [SERVER_LABEL]: this.#s.instanceId });
          await joinAsNode(this.#driver, r.id, { name: FIRST_NODE, sandboxId: r.sandboxId });
          r.peered = true;
        }
        await joinAsNode(this.#driver, r.id, { name, sandboxId });
        if (this.#sessions.get(id) !== r) throw new ApiError('SESSION_NOT_FOUND');
      } catch (err) {
        await this.#driver.remove(sandboxId).catch(() => undefined);
        if (err instanceof ApiError) throw err;
        this.#log.error({ err, id, node: name }, 'node failed to join');
        throw new ApiError('SANDBOX_FAILED', `${name} could not join the session's network, and was removed.`);
      } finally {
        this.#joining.delete(sandboxId);
      }
      (r.nodes ??= []).push({ name, sandboxId });
      await this.#write(r.id, r);
      this.#tell(r, { nodes: this.#nodes(r) });
      return { session: this.view(r), node: name };
    });
  }

  /** TOO_MANY_NODES when the session has as many nodes as it may. */
  checkRoomForNode(id: string): void {
    if (this.nodeCount(id) >= this.#s.maxNodes) {
      throw new ApiError('TOO_MANY_NODES', `A session has at most ${this.#s.maxNodes} nodes.`);
    }
  }

  /** Removes a node and everything on it. node1 is the session itself: FIRST_NODE_STAYS. */
  removeNode(id: string, node: string): Promise<SessionView> {
    return this.#serial(id, async () => {
      const r = this.#sessions.get(id);
      if (!r) throw new ApiError('SESSION_NOT_FOUND');
      if (node === FIRST_NODE) throw new ApiError('FIRST_NODE_STAYS');
      const found = r.nodes?.find((n) => n.name === node);
      if (!found) throw new ApiError('NODE_NOT_FOUND', `This session has no ${node}.`);
      r.nodes = r.nodes!.filter((n) => n !== found);
      await this.#write(r.id, r);
      // Its slot counts until the sandbox is really gone.
      this.#joining.add(found.sandboxId);
      try {
        await this.#driver.remove(found.sandboxId);
      } finally {
        this.#joining.delete(found.sandboxId);
      }
      this.#tell(r, { nodes: this.#nodes(r) });
      this.#fillPool();
      return this.view(r);
    });
  }

  /**
   * Adds the nodes a template needs and forms its Swarm, telling the session's listeners each step
   * (the page shows them). Nodes the session has already are used; ones already in the swarm stay.
   */
  async applyTemplate(id: string, templateId: SwarmTemplateId): Promise<SessionView> {
    const t = SWARM_TEMPLATES[templateId];
    const total = t.managers + t.workers;
    const missing = Math.max(0, total - this.nodeCount(id));
    const of = missing + total + 1;
    let step = 0;
    const tell = (title: string, last = false) => {
      // Promotions and demotions of nodes already in the swarm may add steps: only "Ready" is the last.
      step = last ? of : Math.min(step + 1, of - 1);
      const r = this.#sessions.get(id);
      if (r) this.#tell(r, { progress: { title, step, of } });
    };
    for (let i = 0; i < missing; i++) {
      tell(`Starting node${this.nodeCount(id) + 1}`);
      await this.addNode(id);
    }
    const r = this.#sessions.get(id);
    if (!r) throw new ApiError('SESSION_NOT_FOUND');
    const nodes = this.#allNodes(r).slice(0, total);
    await this.#serial(id, () => formSwarm(this.#driver, nodes, t.managers, tell));
    tell(`Ready: ${t.title}`, true);
    return this.view(r);
  }

  /** Every sandbox of a session: node1 first. */
  #sandboxes(r: SessionRecord): string[] {
    return this.#allNodes(r).map((n) => n.sandboxId);
  }

  /** Removes every node of a session, and its network. */
  async #removeAll(r: SessionRecord): Promise<void> {
    const sandboxes = this.#sandboxes(r);
    const peered = r.peered || Boolean(r.nodes?.length);
    r.nodes = [];
    r.peered = false;
    await Promise.all(
      sandboxes.map((s) =>
        this.#driver.remove(s).catch((err) => this.#log.error({ err, id: r.id }, 'sandbox removal failed')),
      ),
    );
    if (peered) {
      await this.#driver
        .removePeerNetwork(r.id)
        .catch((err) => this.#log.error({ err, id: r.id }, 'peer network removal failed'));
    }
  }

  /** Marks activity: pushes the idle deadline back. Cheap; called on every keystroke. */
  touch(id: string): void {
    const r = this.#sessions.get(id);
    if (!r) return;
    r.lastActivityAt = this.#now();
    this.#touched.add(id);
    if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => void this.#flushTouches(), TOUCH_FLUSH_MS);
      this.#flushTimer.unref();
    }
    if (this.#warned.delete(id)) this.#emit(r, { state: 'ready', expiresAt: this.#endsAt(r) });
  }

  /** Writes the activity of the sessions touched since the last flush (only that field: another server may change the rest). */
  async #flushTouches(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const ids = [...this.#touched];
    this.#touched.clear();
    for (const id of ids) {
      const r = this.#sessions.get(id);
      if (!r) continue;
      await this.#store.touch(id, r.lastActivityAt).then(
        () => this.#publish(id),
        (err: unknown) => this.#log.warn({ err, id }, 'activity could not be written; the next keystroke writes it'),
      );
    }
  }

  extend(id: string): SessionView {
    const r = this.#sessions.get(id);
    if (!r) throw new ApiError('SESSION_NOT_FOUND');
    r.expiresAt = Math.max(r.expiresAt, this.#now()) + this.#s.sessionTtlMs;
    r.lastActivityAt = this.#now();
    this.#warned.delete(id);
    void this.#write(r.id, r);
    this.#emit(r, { state: 'ready', expiresAt: this.#endsAt(r) });
    return this.view(r);
  }

  /** A fresh sandbox for the same session. Terminals of the old one end. */
  async reset(id: string): Promise<SessionView> {
    const r = this.#sessions.get(id);
    if (!r) throw new ApiError('SESSION_NOT_FOUND');
    this.#resetting.add(id);
    this.#emit(r, { state: 'creating', expiresAt: this.#endsAt(r), reason: 'reset' });
    try {
      // The old sandboxes go first, so a reset never needs room for two. A reset starts over with
      // one node: the page adds the nodes its lesson or template asks for again.
      await this.#removeAll(r);
      r.sandboxId = await this.#acquireSandbox(sessionLabels(r.id, r.ownerId, r.expiresAt), true);
      r.lastActivityAt = this.#now();
      await this.#write(r.id, r);
    } catch (err) {
      // The old sandbox is gone and no new one came: the session cannot go on.
      await this.destroy(id, 'ended');
      throw err;
    } finally {
      this.#resetting.delete(id);
    }
    this.#emit(r, { state: 'ready', expiresAt: this.#endsAt(r), nodes: this.#nodes(r) });
    return this.view(r);
  }

  async destroy(id: string, reason: EndReason = 'ended'): Promise<void> {
    const r = this.#sessions.get(id);
    if (!r) return;
    this.#sessions.delete(id);
    this.#warned.delete(id);
    await this.#write(id, undefined, reason);
    // Removed before the client is told, so "expired" means the sandboxes are really gone.
    await this.#removeAll(r);
    this.#emit(r, { state: 'expired', expiresAt: this.#now(), reason });
    this.#listeners.delete(id);
    this.#fillPool();
  }

  /**
   * A guest signed in to an account: the guest's session becomes the account's, unless the
   * account already has one, which wins (the guest's then ends).
   */
  async transfer(fromOwner: string, toOwner: string): Promise<void> {
    if (fromOwner === toOwner) return;
    const theirs = [...this.#sessions.values()].some((r) => r.ownerId === toOwner);
    for (const r of [...this.#sessions.values()].filter((r) => r.ownerId === fromOwner)) {
      if (theirs) await this.destroy(r.id, 'ended');
      else {
        r.ownerId = toOwner;
        await this.#write(r.id, r);
      }
    }
  }

  /** Every live session with its owner and sandbox (for admins). */
  list(): (SessionView & { ownerId: string; sandboxId: string })[] {
    return [...this.#sessions.values()].map((r) => ({ ...this.view(r), ownerId: r.ownerId, sandboxId: r.sandboxId }));
  }

  /** How many sandboxes the session holds (its nodes). */
  nodeCount(id: string): number {
    const r = this.#sessions.get(id);
    return r ? this.#nodes(r).length : 0;
  }

  /** Calls `listener` on every state change of a session; returns the unsubscribe function. */
  subscribe(id: string, listener: Listener): () => void {
    let set = this.#listeners.get(id);
    if (!set) this.#listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  view(r: SessionRecord): SessionView {
    return {
      id: r.id,
      state: this.#state(r),
      lesson: r.lesson ?? null,
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      endsAt: this.#endsAt(r),
      nodes: this.#nodes(r),
      kernel: this.#kernel,
    };
  }

  #endsAt(r: SessionRecord): number {
    return Math.min(r.expiresAt, r.lastActivityAt + this.#s.idleTimeoutMs);
  }

  #state(r: SessionRecord): SessionState {
    if (this.#resetting.has(r.id)) return 'creating';
    return this.#now() >= this.#endsAt(r) - this.#s.expiryWarningMs ? 'expiring' : 'ready';
  }

  #emit(r: SessionRecord, e: SessionEvent): void {
    for (const l of this.#listeners.get(r.id) ?? []) l(e);
  }

  /**
   * Warns this server's learners whose session is about to end; on the server that runs the
   * reaper, also ends what is due and removes sandboxes nobody owns.
   */
  async reap(): Promise<void> {
    const now = this.#now();
    for (const r of [...this.#sessions.values()]) {
      const endsAt = this.#endsAt(r);
      if (now >= endsAt) {
        if (this.#reaping) await this.destroy(r.id, r.expiresAt <= endsAt ? 'ttl' : 'idle');
      } else if (now >= endsAt - this.#s.expiryWarningMs && !this.#warned.has(r.id)) {
        this.#warned.add(r.id);
        this.#emit(r, { state: 'expiring', expiresAt: endsAt });
      }
    }
    if (!this.#reaping) return;
    await this.#removeOrphans(ORPHAN_GRACE_MS).catch((err) => this.#log.error({ err }, 'orphan sweep failed'));
    await this.#store
      .removeAbandoned(this.#now() - PENDING_SESSION_MS)
      .catch((err) => this.#log.error({ err }, 'sweep of abandoned sessions failed'));
    await this.pool
      .forgetTaken(this.#now() - ORPHAN_GRACE_MS)
      .catch((err) => this.#log.error({ err }, 'the warm pool could not forget what was taken'));
  }

  /**
   * On the server that reaps: ends the sessions of sandboxes the driver reports lost (their host
   * stopped answering), which tells their learners why, and replaces lost pool sandboxes.
   */
  async endLost(): Promise<void> {
    if (!this.#reaping || this.#lookingForLost) return;
    this.#lookingForLost = true;
    try {
      const lost = new Map((await this.#driver.lost()).map((l) => [l.id, l.why]));
      if (lost.size === 0) return;
      for (const r of [...this.#sessions.values()]) {
        // A reset removes the session's sandbox on purpose: its ending task is not a loss.
        if (this.#resetting.has(r.id)) continue;
        const sandbox = this.#sandboxes(r).find((s) => lost.has(s) && !this.#joining.has(s));
        if (!sandbox) continue;
        this.#log.warn({ session: r.id, sandbox, why: lost.get(sandbox) }, 'sandbox lost: its session ends');
        await this.destroy(r.id, 'lost');
      }
      await this.pool.replaceLost([...lost.keys()]);
    } catch (err) {
      this.#log.error({ err }, 'the look for lost sandboxes failed');
    } finally {
      this.#lookingForLost = false;
    }
  }

  /**
   * Removes labelled sandboxes that no session, pool slot or creation in flight accounts for, and
   * the peer networks of sessions that are gone.
   */
  async #removeOrphans(graceMs: number): Promise<number> {
    const known = new Set([...this.#sessions.values()].flatMap((r) => this.#sandboxes(r)));
    for (const s of this.#joining) known.add(s);
    for (const s of await this.pool.known()) known.add(s);
    let removed = 0;
    for (const s of await this.#ownSandboxes()) {
      if (known.has(s.id)) continue;
      // A young sandbox may be a creation of this process not yet recorded.
      if (graceMs > 0 && this.#now() - s.createdAt.getTime() < graceMs) continue;
      await this.#driver.remove(s.id);
      removed++;
    }
    for (const n of await this.#driver.listPeerNetworks()) {
      if (n.labels[SERVER_LABEL] !== this.#s.instanceId || this.#sessions.has(n.id)) continue;
      await this.#driver.removePeerNetwork(n.id);
      removed++;
    }
    if (removed) this.#log.warn({ removed }, 'removed orphaned sandboxes and networks');
    return removed;
  }

  async #ownSandboxes() {
    return (await this.#driver.list()).filter((s) => s.labels[SERVER_LABEL] === this.#s.instanceId);
  }

  /**
   * Writes one session as it is now (`undefined`: removes it, `ended` saying why) and tells the other servers. A
   * change a learner asked for (a new session, a node, a reset, an end) waits for its write before
   * it is answered, so a server killed just after loses nothing it said was done. A failed write is
   * logged, and the session's next change writes it whole again.
   */
  async #write(id: string, r: SessionRecord | undefined, ended?: EndReason): Promise<void> {
    try {
      if (r) await this.#store.put(r);
      else await this.#store.remove(id);
      await this.#publish(id, ended);
    } catch (err) {
      this.#log.error({ err, id }, 'a session could not be written; its next change writes it again');
    }
  }

  async #publish(id: string, ended?: EndReason): Promise<void> {
    await this.#notifier
      ?.publish(SESSIONS_CHANNEL, { id, from: this.#self, ...(ended ? { ended } : {}) })
      .catch((err: unknown) => {
        this.#log.warn({ err, id }, 'the other servers could not be told of a session change; they read it later');
      });
  }

  stats(): { sessions: number; pool: number; creating: number; capacity: number } {
    return {
      sessions: this.#sessions.size,
      pool: this.pool.count(),
      creating: this.#creating,
      capacity: this.#s.maxSandboxes,
    };
  }
}
