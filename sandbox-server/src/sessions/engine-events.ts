// Events of each session's own Docker engine, followed while anyone listens (the port list, live
// grading). One `docker events` per session however many listeners; it starts again by itself
// after a reset (new sandbox) or an engine restart.
import type { SandboxDriver, Watch } from '../drivers/driver.ts';
import type { SessionManager } from './session-manager.ts';

export interface EngineEvent {
  type: string;
  action: string;
  /** The object's name (a container's, a network's), when the engine gives one. */
  name: string;
  /** The object's id (a container's full id for container events). */
  id: string;
  /** For network events: the container connected or disconnected. */
  container: string;
  /** Set by EngineEvents: the event is about one of the grader's own helper containers. */
  grader?: boolean;
}

/** Names of the helper containers the grader makes: their events are not the learner's doing. */
export const GRADER_PREFIX = 'dockyard-grader-';

// Absolute path: the learner's own `docker` earlier in their PATH changes nothing here. Fields are
// tab-separated: an action may hold spaces ("exec_start: sh -c ...").
const EVENTS = [
  '/usr/bin/docker',
  'events',
  '--format',
  '{{.Type}}\t{{.Action}}\t{{.Actor.ID}}\t{{.Actor.Attributes.container}}\t{{.Actor.Attributes.name}}',
];
const RETRY_MS = 1000;

type Listener = (e: EngineEvent | 'reconnected') => void;

interface Followed {
  listeners: Set<Listener>;
  watch?: Watch;
  stopped: boolean;
}

export function parseEvent(line: string): EngineEvent | undefined {
  const [type = '', action = '', id = '', container = '', name = ''] = line.trim().split('\t');
  if (!type || !action) return undefined;
  const value = (v: string) => v.replace(/^<no value>$/, '');
  // Actions such as "exec_start: sh -c ..." carry arguments after a colon.
  return {
    type,
    action: action.replace(/:.*$/, ''),
    id: value(id),
    container: value(container),
    name: value(name),
  };
}

/** Events that are the grader's or the platform's own looking, not a change the learner made. */
export const isOwnLooking = (e: EngineEvent) =>
  e.grader === true || e.name.startsWith(GRADER_PREFIX) || e.action.startsWith('exec_') || e.action === 'archive-path';

/**
 * Marks the events of the grader's helper containers. Their network events (connect, disconnect)
 * name the network and give the container only by id, so ids are remembered from the container's
 * own events, which carry its name. Unmarked, a check that runs a container re-graded itself forever.
 */
export function graderTracker(): (e: EngineEvent) => EngineEvent {
  const ids = new Set<string>();
  return (e) => {
    if (e.type === 'container' && e.name.startsWith(GRADER_PREFIX)) {
      if (e.action === 'destroy') ids.delete(e.id);
      else ids.add(e.id);
      return { ...e, grader: true };
    }
    return e.type === 'network' && ids.has(e.container) ? { ...e, grader: true } : e;
  };
}

export class EngineEvents {
  readonly #driver: SandboxDriver;
  readonly #sessions: SessionManager;
  readonly #followed = new Map<string, Followed>();

  constructor(driver: SandboxDriver, sessions: SessionManager) {
    this.#driver = driver;
    this.#sessions = sessions;
  }

  /**
   * Calls `listener` with each event of the session's engine, and with "reconnected" whenever the
   * stream starts (again), after which listeners should re-read what they show.
   */
  subscribe(sessionId: string, listener: Listener): () => void {
    let f = this.#followed.get(sessionId);
    if (!f) {
      f = { listeners: new Set(), stopped: false };
      this.#followed.set(sessionId, f);
      void this.#follow(sessionId, f);
    }
    f.listeners.add(listener);
    const followed = f;
    return () => {
      followed.listeners.delete(listener);
      if (followed.listeners.size === 0) this.#stop(sessionId, followed);
    };
  }

  stopAll(): void {
    for (const [id, f] of this.#followed) this.#stop(id, f);
  }

  #stop(sessionId: string, f: Followed): void {
    f.stopped = true;
    f.watch?.stop();
    this.#followed.delete(sessionId);
  }

  async #follow(sessionId: string, f: Followed): Promise<void> {
    while (!f.stopped && this.#sessions.viewOf(sessionId)) {
      try {
        const mark = graderTracker();
        f.watch = await this.#driver.watch(this.#sessions.sandboxOf(sessionId), EVENTS, (line) => {
          const e = parseEvent(line);
          if (e) for (const l of f.listeners) l(mark(e));
        });
        for (const l of f.listeners) l('reconnected');
        await f.watch.ended;
      } catch {
        // The sandbox is being replaced or its engine is not up yet: try again shortly.
      }
      if (!f.stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
