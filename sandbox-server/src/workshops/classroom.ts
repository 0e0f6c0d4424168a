// A running class: instructors' live dashboards, their read-only views of learners' terminals,
// broadcasts and "extend everyone". Dashboards are recomputed from the store (so a restarted
// server shows the same grid) whenever a learner's progress or seat changes, and every few seconds
// for who is online or stuck; only a grid that changed is sent.
import type { Exercise } from '@dockyard/content';
import type { Dashboard, DashboardServerMessage } from '../protocol/dashboard.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Store, User, Workshop } from '../store/store.ts';
import type { TerminalRegistry } from '../terminals/terminal-registry.ts';

type LearnerSink = (msg: ServerMessage) => void;
type DashboardSink = (msg: DashboardServerMessage) => void;

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
  readonly #sessions: SessionManager;
  readonly #terminals: TerminalRegistry;
  readonly #exercises: readonly Exercise[];
  readonly #publicUrl: string;
  readonly #stuckMs: number;
  readonly #now: () => number;
  readonly #dashboards = new Set<OpenDashboard>();
  readonly #learners = new Map<string, Set<LearnerSink>>();
  readonly #lastBroadcast = new Map<string, Extract<ServerMessage, { type: 'broadcast' }>>();
  #refreshTimer: NodeJS.Timeout | undefined;
  readonly #ticker: NodeJS.Timeout;

  constructor(opts: {
    store: Store;
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
    this.#sessions = opts.sessions;
    this.#terminals = opts.terminals;
    this.#exercises = opts.exercises;
    this.#publicUrl = opts.publicUrl;
    this.#stuckMs = opts.stuckMs;
    this.#now = opts.now ?? Date.now;
    this.#ticker = setInterval(() => this.changed(), opts.tickMs ?? 5_000);
    this.#ticker.unref();
  }

  joinUrl(w: Workshop): string {
    return `${this.#publicUrl}/join/?code=${w.code}`;
  }

  /** A learner's progress or seat changed: dashboards are recomputed (soon, once for a burst). */
  changed(): void {
    if (this.#refreshTimer || this.#dashboards.size === 0) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      for (const d of this.#dashboards) void this.#push(d).catch(() => undefined);
    }, REFRESH_DEBOUNCE_MS);
  }

  /** A learner's session socket: told when they are watched, and of broadcasts. Returns the detach function. */
  async attachLearner(sessionId: string, sink: LearnerSink): Promise<() => void> {
    let sinks = this.#learners.get(sessionId);
    if (!sinks) this.#learners.set(sessionId, (sinks = new Set()));
    sinks.add(sink);
    const detach = () => {
      sinks.delete(sink);
      if (sinks.size === 0 && this.#learners.get(sessionId) === sinks) this.#learners.delete(sessionId);
    };
    const watcher = [...this.#dashboards].find((d) => d.watching?.sessionId === sessionId);
    if (watcher) sink({ type: 'watched', watching: true, by: watcher.viewer.displayName });
    // Every learner page connects here: ask the store only when there is a message to replay.
    if (this.#lastBroadcast.size === 0) return detach;
    const joined = await this.#store.workshopsJoinedBy(this.#sessions.ownerOf(sessionId));
    for (const w of joined) {
      const b = this.#lastBroadcast.get(w.id);
      if (b && this.#now() - b.at < BROADCAST_REPLAY_MS) sink(b);
    }
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

  /** Sends a message to every learner of the workshop with a page open; returns how many got it. */
  async broadcast(workshop: Workshop, from: User, text: string): Promise<number> {
    const msg = { type: 'broadcast' as const, text, from: from.displayName, at: this.#now() };
    this.#lastBroadcast.set(workshop.id, msg);
    let delivered = 0;
    for (const m of await this.#store.membersOf(workshop.id)) {
      const sinks = this.#sessions.listFor(m.userId).flatMap((s) => [...(this.#learners.get(s.id) ?? [])]);
      for (const sink of sinks) sink(msg);
      if (sinks.length > 0) delivered++;
    }
    return delivered;
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
    clearInterval(this.#ticker);
    clearTimeout(this.#refreshTimer);
    for (const d of this.#dashboards) this.#unwatch(d);
    this.#dashboards.clear();
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
    if (learner === null) return this.changed();
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
    this.changed();
  }

  #unwatch(d: OpenDashboard): void {
    const w = d.watching;
    if (!w) return;
    w.stop();
    d.watching = undefined;
    d.send({ type: 'watch', learner: w.learner, state: 'stopped' });
    const still = [...this.#dashboards].some((o) => o.watching?.sessionId === w.sessionId);
    if (!still) this.#tellLearner(w.sessionId, { type: 'watched', watching: false, by: d.viewer.displayName });
    this.changed();
  }

  #tellLearner(sessionId: string, msg: ServerMessage): void {
    for (const sink of this.#learners.get(sessionId) ?? []) sink(msg);
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
