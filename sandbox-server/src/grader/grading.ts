// Grading for sessions: on request (REST, WebSocket), and live while a lesson is open, re-grading
// when the learner's engine changes or a file is saved, and pushing only reports that differ.
import type { Exercise } from '@dockyard/content';
import type { SandboxDriver } from '../drivers/driver.ts';
import { ApiError } from '../errors.ts';
import { isOwnLooking, type EngineEvents } from '../sessions/engine-events.ts';
import { FIRST_NODE, nodeKey, type SessionManager } from '../sessions/session-manager.ts';
import { DEFAULT_BUDGET, grade, MissingNode, type GradeBudget, type GradeReport } from './grader.ts';
import { sandboxProbe } from './probe.ts';

type Listener = (report: GradeReport) => void;

interface Live {
  exerciseId: string;
  listener: Listener;
  timer?: NodeJS.Timeout;
  running: boolean;
  again: boolean;
  /** Statuses and messages of the last report pushed: a report that says the same is not pushed. */
  last?: string;
  unfollow: () => void;
}

export const LIVE_DEBOUNCE_MS = 400;

/** Keeps a report as the session owner's progress; `attempt` says whether it counts as one. */
type RecordProgress = (sessionId: string, exercise: Exercise, report: GradeReport, attempt: boolean) => Promise<void>;

export class Grading {
  readonly #driver: SandboxDriver;
  readonly #sessions: SessionManager;
  readonly #events: EngineEvents;
  readonly #exercises: Map<string, Exercise>;
  readonly #budget: GradeBudget;
  readonly #live = new Map<string, Set<Live>>();
  readonly #record: RecordProgress | undefined;
  readonly #log: { warn(obj: object, msg: string): void } | undefined;
  /** Called with every report made, for metrics. */
  onGraded?: (report: GradeReport) => void;

  constructor(opts: {
    driver: SandboxDriver;
    sessions: SessionManager;
    events: EngineEvents;
    exercises: Exercise[];
    budget?: GradeBudget;
    /** Keeps a report as the session owner's progress. */
    record?: RecordProgress;
    log?: { warn(obj: object, msg: string): void };
  }) {
    this.#driver = opts.driver;
    this.#sessions = opts.sessions;
    this.#events = opts.events;
    this.#exercises = new Map(opts.exercises.map((e) => [e.id, e]));
    this.#budget = opts.budget ?? DEFAULT_BUDGET;
    this.#record = opts.record;
    this.#log = opts.log;
  }

  exercise(id: string): Exercise {
    const e = this.#exercises.get(id);
    if (!e) throw new ApiError('EXERCISE_NOT_FOUND', `There is no exercise "${id}".`);
    return e;
  }

  list(): Exercise[] {
    return [...this.#exercises.values()];
  }

  /**
   * Grades now. Every requested grading counts as an attempt in the owner's progress; a live one
   * only when it passes (the moment the learner finished), and is kept uncounted when it scores.
   */
  async grade(sessionId: string, exerciseId: string, source: 'request' | 'live' = 'request'): Promise<GradeReport> {
    const exercise = this.exercise(exerciseId);
    // Each check reads the node it names; a session that ended is SESSION_NOT_FOUND before any check.
    this.#sessions.sandboxOf(sessionId);
    const probes = (node: string) => {
      try {
        return sandboxProbe(this.#driver, this.#sessions.sandboxOf(nodeKey(sessionId, node)));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'NODE_NOT_FOUND') throw new MissingNode(err.message);
        throw err;
      }
    };
    const report = await grade(exercise, probes, this.#budget);
    this.onGraded?.(report);
    if (source === 'request') await this.#keep(sessionId, exercise, report);
    return report;
  }

  async #keep(sessionId: string, exercise: Exercise, report: GradeReport, attempt = true): Promise<void> {
    if (!this.#record || report.incomplete) return;
    // A store hiccup never costs the learner their report: it is logged, and the report goes out.
    await this.#record(sessionId, exercise, report, attempt).catch((err: unknown) =>
      this.#log?.warn({ err, sessionId, exercise: exercise.id }, 'progress not saved'),
    );
  }

  /**
   * Live mode: grades now, then again after each change of the learner's engine or files
   * (debounced), calling `listener` whenever the outcome changes. Returns the stop function.
   */
  watch(sessionId: string, exerciseId: string, listener: Listener): () => void {
    this.exercise(exerciseId);
    const live: Live = { exerciseId, listener, running: false, again: false, unfollow: () => undefined };
    let set = this.#live.get(sessionId);
    if (!set) this.#live.set(sessionId, (set = new Set()));
    set.add(live);
    // The engine events of every node the exercise's checks read.
    const nodes = new Set(this.exercise(exerciseId).checks.map((c) => c.node ?? FIRST_NODE));
    const stops = [...nodes].map((node) =>
      this.#events.subscribe(nodeKey(sessionId, node), (e) => {
        if (e === 'reconnected' || !isOwnLooking(e)) this.#soon(sessionId, live);
      }),
    );
    live.unfollow = () => stops.forEach((stop) => stop());
    // Grade now: the engine's event stream may be followed already, so no "reconnected" comes.
    this.#soon(sessionId, live);
    return () => {
      clearTimeout(live.timer);
      live.unfollow();
      set.delete(live);
      if (set.size === 0) this.#live.delete(sessionId);
    };
  }

  /** A file of the session was saved (the editor): live exercises may have changed. */
  fileSaved(sessionId: string): void {
    for (const live of this.#live.get(sessionId) ?? []) this.#soon(sessionId, live);
  }

  #soon(sessionId: string, live: Live): void {
    clearTimeout(live.timer);
    live.timer = setTimeout(() => void this.#regrade(sessionId, live), LIVE_DEBOUNCE_MS);
  }

  /** One grading at a time per live exercise; changes during it cause one more afterwards. */
  async #regrade(sessionId: string, live: Live): Promise<void> {
    if (live.running) {
      live.again = true;
      return;
    }
    live.running = true;
    try {
      const report = await this.grade(sessionId, live.exerciseId, 'live');
      const key = JSON.stringify(report.checks.map((c) => [c.id, c.status, c.message]));
      if (key !== live.last && this.#live.get(sessionId)?.has(live)) {
        live.last = key;
        // The moment the learner finished counts as an attempt. Partial progress (some points) is
        // kept without counting, so an instructor's dashboard sees it, and who is moving. Kept
        // before it is pushed, so a page that asks for progress on seeing a pass (did that finish
        // the course?) finds it.
        if (report.passed || report.score > 0) {
          await this.#keep(sessionId, this.exercise(live.exerciseId), report, report.passed);
        }
        if (this.#live.get(sessionId)?.has(live)) live.listener(report);
      }
    } catch {
      // The session ended or its sandbox is being replaced; the next event tries again.
    } finally {
      live.running = false;
      if (live.again) {
        live.again = false;
        this.#soon(sessionId, live);
      }
    }
  }
}
