// The ports a learner's containers publish, read from the sandbox's own engine, and kept live from
// its events while anyone watches (the lesson page's port buttons).
import type { SandboxDriver } from '../drivers/driver.ts';
import { sandboxProbe } from '../grader/probe.ts';
import type { EngineEvents } from '../sessions/engine-events.ts';
import { LiveView } from '../sessions/live-view.ts';
import type { SessionManager } from '../sessions/session-manager.ts';

export interface PublishedPort {
  /** The port on the sandbox (`-p 8080:80` publishes 8080). */
  port: number;
  /** The container's own port (80 above). */
  target: number;
  container: string;
  image: string;
}

/**
 * Published TCP ports from the engine API's `GET /containers/json` (its reply, or that reply's
 * text), one entry per port, sorted.
 */
export function publishedPorts(containersJson: unknown): PublishedPort[] {
  let containers = containersJson;
  if (typeof containers === 'string') {
    try {
      containers = JSON.parse(containers);
    } catch {
      return [];
    }
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

/** Container events that can change what is published. */
const CHANGES = new Set(['start', 'die', 'destroy', 'stop', 'kill', 'pause', 'unpause']);

export class PublishedPortsRegistry {
  readonly #driver: SandboxDriver;
  readonly #sessions: SessionManager;
  readonly #live: LiveView<PublishedPort[]>;

  constructor(driver: SandboxDriver, sessions: SessionManager, events: EngineEvents) {
    this.#driver = driver;
    this.#sessions = sessions;
    this.#live = new LiveView({
      events,
      read: (id) => this.list(id),
      relevant: (e) => e.type === 'container' && CHANGES.has(e.action),
      debounceMs: 150,
    });
  }

  /** The session's published ports now; throws when its engine does not answer (not the same as none). */
  async list(sessionId: string): Promise<PublishedPort[]> {
    const probe = sandboxProbe(this.#driver, this.#sessions.sandboxOf(sessionId));
    const r = await probe.api('/containers/json');
    if (r.status !== 200) throw new Error(`the sandbox's engine answered ${r.status}`);
    return publishedPorts(r.body);
  }

  /** Calls `listener` with the list now and on every change; returns the unsubscribe function. */
  subscribe(sessionId: string, listener: (ports: PublishedPort[]) => void): () => void {
    return this.#live.subscribe(sessionId, listener);
  }
}
