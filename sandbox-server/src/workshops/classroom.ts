// A running class: instructors' live dashboards, their read-only views of learners' terminals,
// broadcasts and "extend everyone". Dashboards are recomputed from the store (so a restarted
// server shows the same grid) whenever a learner's progress or seat changes, and every few seconds
// for who is online or stuck; only a grid that changed is sent. Several servers may share the store:
// a change on one is announced to all (the notifier's `classroom` channel), and so is a broadcast
// (`broadcast`), which each server hands to the learners connected to it.
import { randomUUID } from 'node:crypto';
import type { Exercise } from '@dockyard/content';
import type { Dashboard, DashboardServerMessage } from '../protocol/dashboard.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Notifier } from '../store/notifications.ts';
import type { Store, User, Workshop } from '../store/store.ts';
import type { TerminalRegistry } from '../terminals/terminal-registry.ts';

type LearnerSink = (msg: ServerMessage) => void;
type DashboardSink = (msg: DashboardServerMessage) => void;
type BroadcastMessage = Extract<ServerMessage, { type: 'broadcast' }>;
/** What the `broadcast` channel carries: the message, and the server that sent it (it has delivered it). */
interface BroadcastNote {
  workshopId: string;
  msg: BroadcastMessage;
  origin: string;
}

/** How long a broadcast is shown again to a learner who connects after it was sent. */
export const BROADCAST_REPLAY_MS = 15 * 60_000;
const REFRESH_DEBOUNCE_MS = 150;

interface OpenDashboard {
  workshop: Workshop;
  viewer: User;
  send: DashboardSink;
  last: string;
  /** The learner whose terminal it shows, and how to stop. */
  watching?: { learner: string; sessionId: string; stop: () => void };
}

export class Classroom {
  readonly #store: Store;
  readonly #notifier: Notifier;
  /** This classroom, among the servers that share the notifier. */
  readonly #id = randomUUID();
  readonly #unsubscribe: Array<() => void>;
  readonly #sessions: SessionManager;
  readonly #terminals: TerminalRegistry;
  readonly #exercises: readonly Exercise[];
  readonly #publicUrl: string;
  readonly #stuckMs: number;
  readonly #now: () => number;
  readonly #dashboards = new Set<OpenDashboard>();
  readonly #learners = new Map<string, Set<LearnerSink>>();
  #refreshTimer: NodeJS.Timeout | undefined;
  /** The `classroom` notification being sent, and whether another change came meanwhile. */
  #announcing: Promise<void> | undefined;
  #announceAgain = false;
  readonly #ticker: NodeJS.Timeout;

  constructor(opts: {
    store: Store;
    /** How the servers sharing the store tell each other of changes and broadcasts. */
    notifier: Notifier;
    sessions: SessionManager;
    terminals: TerminalRegistry;
    exercises: readonly Exercise[];
    publicUrl: string;
    stuckMs: number;
    /** How often the grids are recomputed without a change (online, stuck), in ms. */
    tickMs?: number;
    now?: () => number;
  }) {
    this.#store = opts.store;
    this.#notifier = opts.notifier;
    this.#sessions = opts.sessions;
    this.#terminals = opts.terminals;
    this.#exercises = opts.exercises;
    this.#publicUrl = opts.publicUrl;
    this.#stuckMs = opts.stuckMs;
    this.#now = opts.now ?? Date.now;
    this.#ticker = setInterval(() => this.#refresh(), opts.tickMs ?? 5_000);
    this.#ticker.unref();
    this.#unsubscribe = [
      this.#notifier.subscribe('classroom', () => this.#refresh()),
      this.#notifier.subscribe('broadcast', (note) => void this.#received(note as BroadcastNote)),
      this.#notifier.subscribe('attached', (note) => {
        const { sessionId, origin } = note as { sessionId: string; origin: string };
        const watcher = origin === this.#id ? undefined : this.#watcherOf(sessionId);
        if (watcher) this.#tellLearner(sessionId, { type: 'watched', watching: true, by: watcher.viewer.displayName });
      }),
      this.#notifier.subscribe('learner', (note) => {
        const { sessionId, msg } = note as { sessionId: string; msg: ServerMessage };
        for (const sink of this.#learners.get(sessionId) ?? []) sink(msg);
      }),
      // Changes announced while this server could not hear them: the grids are read again.
      this.#notifier.onReconnect(() => this.#refresh()),
    ];
  }

  joinUrl(w: Workshop): string {
    return `${this.#publicUrl}/join/?code=${w.code}`;
  }

  /**
   * A learner's progress or seat, or a workshop, changed: every server's dashboards are recomputed
   * (soon, once for a burst), this server's when the notification comes back to it.
   */
  changed(): void {
    if (this.#announcing) {
      this.#announceAgain = true;
      return;
    }
    // One notification at a time: the changes made while it is sent are announced by the next one.
    this.#announcing = this.#notifier
      .publish('classroom', {})
      // Nobody else hears of it then (the database is away), but this server's dashboards show it.
      .catch(() => this.#refresh())
      .finally(() => {
        this.#announcing = undefined;
        if (!this.#announceAgain) return;
        this.#announceAgain = false;
        this.changed();
      });
  }

  /**
   * A learner's session socket: told when they are watched, and of broadcasts (the recent ones of
   * their workshops at once). Returns the detach function.
   */
  async attachLearner(sessionId: string, sink: LearnerSink): Promise<() => void> {
    // Broadcasts that arrive live while the recent ones are read are not replayed a second time.
    let live: Set<number> | undefined = new Set();
    const attached: LearnerSink = (msg) => {
      if (msg.type === 'broadcast') live?.add(msg.at);
      sink(msg);
    };
    let sinks = this.#learners.get(sessionId);
    if (!sinks) this.#learners.set(sessionId, (sinks = new Set()));
    sinks.add(attached);
    const detach = () => {
      sinks.delete(attached);
      if (sinks.size === 0 && this.#learners.get(sessionId) === sinks) this.#learners.delete(sessionId);
    };
    const watcher = this.#watcherOf(sessionId);
    if (watcher) sink({ type: 'watched', watching: true, by: watcher.viewer.displayName });
    // An instructor on another server may be watching: it says so (the `attached` channel).
    void this.#notifier.publish('attached', { sessionId, origin: this.#id }).catch(() => undefined);
    const owner = this.#ownerOf(sessionId);
    try {
      const recent =
        owner === undefined ? [] : await this.#store.broadcasts.recentFor(owner, this.#now() - BROADCAST_REPLAY_MS);
      for (const b of recent) {
        if (!live.has(b.at)) sink({ type: 'broadcast', text: b.text, from: b.from, at: b.at });
      }
    } catch {
      // The store is away (and /readyz says so): the learner still gets what comes live.
    }
    live = undefined;
    return detach;
  }

  /** An instructor's dashboard: sent the grid now and on every change. */
  async openDashboard(workshop: Workshop, viewer: User, send: DashboardSink): Promise<DashboardHandle> {
    const d: OpenDashboard = { workshop, viewer, send, last: '' };
    this.#dashboards.add(d);
    await this.#push(d);
    return {
      watch: (learner) => this.#watch(d, learner),
      close: () => {
        this.#unwatch(d);
        this.#dashboards.delete(d);
      },
    };
  }

  /**
   * Sends a message to every learner of the workshop with a page open, on every server, and keeps it
   * for those who connect in the next BROADCAST_REPLAY_MS. Returns how many of the workshop's
   * learners have a sandbox (the dashboard's "online"): whichever server their page is connected to,
   * they have it now, or when their page connects again.
   */
  async broadcast(workshop: Workshop, from: User, text: string): Promise<number> {
    const msg: BroadcastMessage = { type: 'broadcast', text, from: from.displayName, at: this.#now() };
    await this.#store.broadcasts.put({ workshopId: workshop.id, text, from: msg.from, at: msg.at });
    // Announced before it is delivered here: when the announcement fails, nobody has it yet and
    // the instructor can simply send it again.
    const note: BroadcastNote = { workshopId: workshop.id, msg, origin: this.#id };
    await this.#notifier.publish('broadcast', note);
    await this.#deliver(workshop.id, msg);
    const members = await this.#store.membersOf(workshop.id);
    return members.filter((m) => this.#sessions.listFor(m.userId).length > 0).length;
  }

  /** Gives every learner's sandbox another session lifetime; returns how many were extended. */
  async extendAll(workshop: Workshop): Promise<number> {
    let extended = 0;
    for (const m of await this.#store.membersOf(workshop.id)) {
      for (const s of this.#sessions.listFor(m.userId)) {
        this.#sessions.extend(s.id);
        extended++;
      }
    }
    return extended;
  }

  /** The grid as it stands, from the store and the live sessions. */
  async dashboard(workshop: Workshop): Promise<Dashboard> {
    const now = this.#now();
    const exercises = this.exercisesOf(workshop);
    const ids = new Set(exercises.map((e) => e.id));
    const members = await this.#store.membersOf(workshop.id);
    const progress = await this.#store.progressOfUsers(members.map((m) => m.userId));
    const watched = new Set([...this.#dashboards].flatMap((d) => (d.watching ? [d.watching.learner] : [])));
    const progressOf = Map.groupBy(
      progress.filter((p) => ids.has(p.exerciseId)),
      (p) => p.userId,
    );
    return {
      type: 'dashboard',
      at: now,
      workshop: {
        id: workshop.id,
        code: workshop.code,
        title: workshop.title,
        startsAt: workshop.startsAt,
        endsAt: workshop.endsAt,
        seatLimit: workshop.seatLimit,
        joinUrl: this.joinUrl(workshop),
      },
      exercises: exercises.map((e) => ({ id: e.id, title: e.title, lesson: e.lesson })),
      learners: members.map((m) => {
        const mine = progressOf.get(m.userId) ?? [];
        const cells = Object.fromEntries(
          mine.map((p) => [
            p.exerciseId,
            {
              status: p.firstCompletedAt !== null ? ('passed' as const) : ('attempted' as const),
              score: p.bestScore,
              maxScore: p.maxScore,
              attempts: p.attempts,
            },
          ]),
        );
        const lastActivityAt = Math.max(m.joinedAt, ...mine.map((p) => p.updatedAt));
        const finished = exercises.length > 0 && exercises.every((e) => cells[e.id]?.status === 'passed');
        return {
          id: m.userId,
          displayName: m.displayName,
          joinedAt: m.joinedAt,
          online: this.#sessions.listFor(m.userId).length > 0,
          nodes: this.#sessions.listFor(m.userId)[0]?.nodes.length ?? 0,
          // Joining early does not count against anyone: quiet time runs from the start at the earliest.
          stuck: !finished && now - Math.max(lastActivityAt, workshop.startsAt) >= this.#stuckMs,
          lastActivityAt,
          watched: watched.has(m.userId),
          cells,
        };
      }),
      stuckMinutes: Math.round(this.#stuckMs / 60_000),
    };
  }

  /** The results as CSV: one row per learner, a column per exercise. */
  async csv(workshop: Workshop): Promise<string> {
    const grid = await this.dashboard(workshop);
    const header = ['learner', 'joined', 'passed', 'score', ...grid.exercises.map((e) => e.id)];
    const rows = grid.learners.map((l) => {
      const cells = grid.exercises.map((e) => l.cells[e.id]);
      return [
        l.displayName,
        new Date(l.joinedAt).toISOString(),
        `${cells.filter((c) => c?.status === 'passed').length}/${grid.exercises.length}`,
        String(cells.reduce((n, c) => n + (c?.score ?? 0), 0)),
        ...cells.map((c) => (c ? `${c.status} ${c.score}/${c.maxScore}` : '')),
      ];
    });
    return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
  }

  exercisesOf(workshop: Workshop): Exercise[] {
    return workshop.lessons.flatMap((lesson) => this.#exercises.filter((e) => e.lesson === lesson));
  }

  close(): void {
    for (const off of this.#unsubscribe) off();
    clearInterval(this.#ticker);
    clearTimeout(this.#refreshTimer);
    for (const d of this.#dashboards) this.#unwatch(d);
    this.#dashboards.clear();
  }

  /** Recomputes this server's dashboards, soon and once for a burst. */
  #refresh(): void {
    if (this.#refreshTimer || this.#dashboards.size === 0) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      for (const d of this.#dashboards) void this.#push(d).catch(() => undefined);
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Another server's broadcast: for the learners connected here. */
  async #received(note: BroadcastNote): Promise<void> {
    if (note.origin === this.#id) return;
    await this.#deliver(note.workshopId, note.msg).catch(() => undefined);
  }

  /** Hands `msg` to the workshop's learners connected to this server; returns how many there were. */
  async #deliver(workshopId: string, msg: BroadcastMessage): Promise<number> {
    if (this.#learners.size === 0) return 0;
    const members = new Set((await this.#store.membersOf(workshopId)).map((m) => m.userId));
    const reached = new Set<string>();
    for (const [sessionId, sinks] of this.#learners) {
      const owner = this.#ownerOf(sessionId);
      if (owner === undefined || !members.has(owner)) continue;
      for (const sink of sinks) sink(msg);
      reached.add(owner);
    }
    return reached.size;
  }

  #ownerOf(sessionId: string): string | undefined {
    try {
      return this.#sessions.ownerOf(sessionId);
    } catch {
      return undefined; // the session has ended (or is not known here yet)
    }
  }

  async #push(d: OpenDashboard): Promise<void> {
    // The workshop itself may have changed (seats, end) since the dashboard opened.
    d.workshop = (await this.#store.getWorkshop(d.workshop.id)) ?? d.workshop;
    const grid = await this.dashboard(d.workshop);
    const key = JSON.stringify({ ...grid, at: 0 });
    if (key === d.last || !this.#dashboards.has(d)) return;
    d.last = key;
    d.send(grid);
  }

  async #watch(d: OpenDashboard, learner: string | null): Promise<void> {
    this.#unwatch(d);
    if (learner === null) return this.#refresh();
    const members = await this.#store.membersOf(d.workshop.id);
    const session = members.some((m) => m.userId === learner) ? this.#sessions.listFor(learner)[0] : undefined;
    if (!session) return d.send({ type: 'watch', learner, state: 'no-sandbox' });
    const stop = this.#terminals.watch(session.id, (msg) =>
      d.send(
        msg.type === 'output'
          ? { type: 'watch-output', learner, term: msg.term, data: msg.data }
          : { type: 'watch-size', learner, term: msg.term, cols: msg.cols, rows: msg.rows },
      ),
    );
    d.watching = { learner, sessionId: session.id, stop };
    d.send({ type: 'watch', learner, state: 'started' });
    this.#tellLearner(session.id, { type: 'watched', watching: true, by: d.viewer.displayName });
    this.#refresh();
  }

  #unwatch(d: OpenDashboard): void {
    const w = d.watching;
    if (!w) return;
    w.stop();
    d.watching = undefined;
    d.send({ type: 'watch', learner: w.learner, state: 'stopped' });
    const still = [...this.#dashboards].some((o) => o.watching?.sessionId === w.sessionId);
    if (!still) this.#tellLearner(w.sessionId, { type: 'watched', watching: false, by: d.viewer.displayName });
    this.#refresh();
  }

  /** The dashboard on this server watching the session's terminals, if one is. */
  #watcherOf(sessionId: string): OpenDashboard | undefined {
    return [...this.#dashboards].find((d) => d.watching?.sessionId === sessionId);
  }

  /** Tells a learner (on whichever server their page is connected to) that they are watched or not. */
  #tellLearner(sessionId: string, msg: ServerMessage): void {
    this.#notifier.publish('learner', { sessionId, msg }).catch(() => {
      // The other servers cannot be told (the database is away): this one's learners still are.
      for (const sink of this.#learners.get(sessionId) ?? []) sink(msg);
    });
  }
}

export interface DashboardHandle {
  watch(learner: string | null): Promise<void>;
  close(): void;
}

/** A CSV field: quoted when needed, and never read as a formula by a spreadsheet (names are learners' input). */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
