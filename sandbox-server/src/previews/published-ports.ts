// The ports a learner's containers publish, read from the sandbox's own engine, and kept live from
// its events while anyone watches (the lesson page's port buttons).
import type { SandboxDriver } from '../drivers/driver.ts';
import type { EngineEvents } from '../sessions/engine-events.ts';
import type { SessionManager } from '../sessions/session-manager.ts';

export interface PublishedPort {
  /** The port on the sandbox (`-p 8080:80` publishes 8080). */
  port: number;
  /** The container's own port (80 above). */
  target: number;
  container: string;
  image: string;
}

// Absolute paths: a learner's own `docker` or `curl` earlier in PATH changes nothing here. They
// can still break their own sandbox's tools; that only fools their own port list.
const LIST = [
  '/usr/bin/curl',
  '-sS',
  '--max-time',
  '3',
  '--unix-socket',
  '/var/run/docker.sock',
  'http://docker/containers/json',
];

/** Published TCP ports from the engine API's `GET /containers/json`, one entry per port, sorted. */
export function publishedPorts(containersJson: string): PublishedPort[] {
  let containers: unknown;
  try {
    containers = JSON.parse(containersJson);
  } catch {
    return [];
  }
  if (!Array.isArray(containers)) return [];
  const byPort = new Map<number, PublishedPort>();
  for (const c of containers as Array<{ Names?: string[]; Image?: string; Ports?: unknown }>) {
    if (!Array.isArray(c.Ports)) continue;
    for (const p of c.Ports as Array<{ PublicPort?: number; PrivatePort?: number; Type?: string }>) {
      if (p.Type !== 'tcp' || !Number.isInteger(p.PublicPort) || byPort.has(p.PublicPort!)) continue;
      byPort.set(p.PublicPort!, {
        port: p.PublicPort!,
        target: p.PrivatePort ?? p.PublicPort!,
        container: String(c.Names?.[0] ?? '').replace(/^\//, ''),
        image: String(c.Image ?? ''),
      });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

type Listener = (ports: PublishedPort[]) => void;

interface Watched {
  listeners: Set<Listener>;
  last?: string;
  timer?: NodeJS.Timeout;
  unfollow: () => void;
}

const DEBOUNCE_MS = 150;
/** Container events that can change what is published. */
const CHANGES = new Set(['start', 'die', 'destroy', 'stop', 'kill', 'pause', 'unpause']);

export class PublishedPortsRegistry {
  readonly #driver: SandboxDriver;
  readonly #sessions: SessionManager;
  readonly #events: EngineEvents;
  readonly #watched = new Map<string, Watched>();

  constructor(driver: SandboxDriver, sessions: SessionManager, events: EngineEvents) {
    this.#driver = driver;
    this.#sessions = sessions;
    this.#events = events;
  }

  /** The session's published ports now. */
  async list(sessionId: string): Promise<PublishedPort[]> {
    const r = await this.#driver.exec(this.#sessions.sandboxOf(sessionId), LIST, { timeoutMs: 5000 });
    return r.exitCode === 0 ? publishedPorts(r.stdout) : [];
  }

  /** Calls `listener` with the list now and on every change; returns the unsubscribe function. */
  subscribe(sessionId: string, listener: Listener): () => void {
    let w = this.#watched.get(sessionId);
    if (!w) {
      const created: Watched = { listeners: new Set(), unfollow: () => undefined };
      created.unfollow = this.#events.subscribe(sessionId, (e) => {
        if (e === 'reconnected' || (e.type === 'container' && CHANGES.has(e.action))) this.#soon(sessionId, created);
      });
      this.#watched.set(sessionId, (w = created));
    } else if (w.last !== undefined) listener(JSON.parse(w.last) as PublishedPort[]);
    w.listeners.add(listener);
    const watched = w;
    return () => {
      watched.listeners.delete(listener);
      if (watched.listeners.size === 0) {
        clearTimeout(watched.timer);
        watched.unfollow();
        this.#watched.delete(sessionId);
      }
    };
  }

  #soon(sessionId: string, w: Watched): void {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => void this.#refresh(sessionId, w).catch(() => undefined), DEBOUNCE_MS);
  }

  async #refresh(sessionId: string, w: Watched): Promise<void> {
    const ports = await this.list(sessionId);
    const json = JSON.stringify(ports);
    if (this.#watched.get(sessionId) !== w || json === w.last) return;
    w.last = json;
    for (const l of w.listeners) l(ports);
  }
}
