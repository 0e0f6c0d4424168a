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
}

/** Names of the helper containers the grader makes: their events are not the learner's doing. */
export const GRADER_PREFIX = 'dockyard-grader-';

// Absolute path: the learner's own `docker` earlier in their PATH changes nothing here.
const EVENTS = ['/usr/bin/docker', 'events', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'];
const RETRY_MS = 1000;

type Listener = (e: EngineEvent | 'reconnected') => void;

interface Followed {
  listeners: Set<Listener>;
  watch?: Watch;
  stopped: boolean;
}

export function parseEvent(line: string): EngineEvent | undefined {
  const [type = '', action = '', ...rest] = line.trim().split(' ');
  if (!type || !action) return undefined;
  // Actions such as "exec_start: sh -c ..." carry arguments after a colon.
  return { type, action: action.replace(/:$/, ''), name: rest.join(' ').replace(/^<no value>$/, '') };
}

/** Events that are the grader's or the platform's own looking, not a change the learner made. */
export const isOwnLooking = (e: EngineEvent) =>
  e.name.startsWith(GRADER_PREFIX) || e.action.startsWith('exec_') || e.action === 'archive-path';

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
        f.watch = await this.#driver.watch(this.#sessions.sandboxOf(sessionId), EVENTS, (line) => {
          const e = parseEvent(line);
          if (e) for (const l of f.listeners) l(e);
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
