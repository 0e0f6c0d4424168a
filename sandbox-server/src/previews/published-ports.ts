// The ports a learner's containers publish, read from the sandbox's own engine, and kept live from
// its events while anyone watches (the lesson page's port buttons).
import type { SandboxDriver, Watch } from '../drivers/driver.ts';
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
const EVENTS = ['/usr/bin/docker', 'events', '--format', '{{.Action}}', '--filter', 'type=container'];
for (const e of ['start', 'die', 'destroy']) EVENTS.push('--filter', `event=${e}`);

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
  watch?: Watch;
  last?: string;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

const DEBOUNCE_MS = 150;
const RETRY_MS = 1000;

export class PublishedPortsRegistry {
  readonly #driver: SandboxDriver;
  readonly #sessions: SessionManager;
  readonly #watched = new Map<string, Watched>();

  constructor(driver: SandboxDriver, sessions: SessionManager) {
    this.#driver = driver;
    this.#sessions = sessions;
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
      w = { listeners: new Set(), stopped: false };
      this.#watched.set(sessionId, w);
      void this.#start(sessionId, w);
    } else if (w.last !== undefined) listener(JSON.parse(w.last) as PublishedPort[]);
    w.listeners.add(listener);
    const watched = w;
    return () => {
      watched.listeners.delete(listener);
      if (watched.listeners.size === 0) this.#stop(sessionId, watched);
    };
  }

  stopAll(): void {
    for (const [id, w] of this.#watched) this.#stop(id, w);
  }

  #stop(sessionId: string, w: Watched): void {
    w.stopped = true;
    clearTimeout(w.timer);
    w.watch?.stop();
    this.#watched.delete(sessionId);
  }

  /** Follows the engine's container events; starts again when they end (reset, engine restart). */
  async #start(sessionId: string, w: Watched): Promise<void> {
    while (!w.stopped && this.#sessions.viewOf(sessionId)) {
      try {
        w.watch = await this.#driver.watch(this.#sessions.sandboxOf(sessionId), EVENTS, () => this.#soon(sessionId, w));
        await this.#refresh(sessionId, w);
        await w.watch.ended;
      } catch {
        // The sandbox is being replaced or its engine is not up yet: try again shortly.
      }
      if (!w.stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  #soon(sessionId: string, w: Watched): void {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => void this.#refresh(sessionId, w).catch(() => undefined), DEBOUNCE_MS);
  }

  async #refresh(sessionId: string, w: Watched): Promise<void> {
    const ports = await this.list(sessionId);
    const json = JSON.stringify(ports);
    if (w.stopped || json === w.last) return;
    w.last = json;
    for (const l of w.listeners) l(ports);
  }
}
