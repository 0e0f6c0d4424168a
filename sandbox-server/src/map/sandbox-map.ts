// The sandbox map: the learner's containers, networks, volumes and published ports, read from the
// sandbox's own engine API and kept live from its events while anyone watches (the map view).
import type { SandboxDriver } from '../drivers/driver.ts';
import { ApiError } from '../errors.ts';
import { PlatformFault, sandboxProbe } from '../grader/probe.ts';
import type { SandboxMap } from '../protocol/messages.ts';
import { GRADER_PREFIX, isOwnLooking, type EngineEvents } from '../sessions/engine-events.ts';
import { LiveView } from '../sessions/live-view.ts';
import type { SessionManager } from '../sessions/session-manager.ts';

export type { SandboxMap };
export type MapContainer = SandboxMap['containers'][number];

/** The engine's own networks, there before the learner makes any. */
const BUILTIN = new Set(['bridge', 'host', 'none']);

// Engine API shapes: only the fields the map reads.
interface ApiContainer {
  Names?: string[];
  Image?: string;
  State?: string;
  Ports?: Array<{ PrivatePort?: number; PublicPort?: number; Type?: string }>;
  NetworkSettings?: { Networks?: Record<string, unknown> | null };
  Mounts?: Array<{ Type?: string; Name?: string }>;
}
interface ApiNetwork {
  Name?: string;
  Driver?: string;
}
interface ApiVolume {
  Name?: string;
}

/** An array from a parsed body or its JSON text, or [] for anything else (an error reply). */
function arrayOf<T>(body: unknown, key?: string): T[] {
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return [];
    }
  }
  if (key && body && typeof body === 'object' && !Array.isArray(body)) body = (body as Record<string, unknown>)[key];
  return Array.isArray(body) ? (body as T[]) : [];
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
/** An image the engine names by id (its tag moved on) reads better short, as `docker ps` shows it. */
const shortImage = (image: string) => image.replace(/^sha256:([0-9a-f]{12})[0-9a-f]{52}$/, '$1');

/**
 * The map from the engine API's `GET /containers/json?all=1`, `GET /networks` and `GET /volumes`
 * (parsed bodies or their JSON text). Pure; everything sorted by name, the grader's helpers left out.
 */
export function buildMap(containersJson: unknown, networksJson: unknown, volumesJson: unknown): SandboxMap {
  const containers: MapContainer[] = [];
  for (const c of arrayOf<ApiContainer>(containersJson)) {
    const name = String(c.Names?.[0] ?? '').replace(/^\//, '');
    if (!name || name.startsWith(GRADER_PREFIX)) continue;
    const ports = new Map<string, { port: number; target: number }>();
    for (const p of c.Ports ?? []) {
      if (!Number.isInteger(p.PublicPort)) continue;
      const port = { port: p.PublicPort!, target: p.PrivatePort ?? p.PublicPort! };
      ports.set(`${port.port}:${port.target}`, port);
    }
    containers.push({
      name,
      image: shortImage(String(c.Image ?? '')),
      state: String(c.State ?? 'unknown'),
      networks: sorted(Object.keys(c.NetworkSettings?.Networks ?? {})),
      ports: [...ports.values()].sort((a, b) => a.port - b.port || a.target - b.target),
      volumes: sorted((c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!)),
    });
  }
  const networks = arrayOf<ApiNetwork>(networksJson)
    .filter((n) => n.Name)
    .map((n) => ({ name: n.Name!, driver: String(n.Driver ?? ''), builtin: BUILTIN.has(n.Name!) }));
  const volumes = arrayOf<ApiVolume>(volumesJson, 'Volumes')
    .filter((v) => v.Name)
    .map((v) => ({ name: v.Name! }));
  return { containers: containers.sort(byName), networks: networks.sort(byName), volumes: volumes.sort(byName) };
}

/** Kinds of engine objects the map shows. */
const CHANGES = new Set(['container', 'network', 'volume']);

export class SandboxMapRegistry {
  readonly #driver: SandboxDriver;
  readonly #sessions: SessionManager;
  readonly #live: LiveView<SandboxMap>;

  constructor(driver: SandboxDriver, sessions: SessionManager, events: EngineEvents) {
    this.#driver = driver;
    this.#sessions = sessions;
    this.#live = new LiveView({
      events,
      read: (id) => this.list(id),
      relevant: (e) => CHANGES.has(e.type) && !isOwnLooking(e),
      debounceMs: 200,
    });
  }

  /** The session's map now; SANDBOX_FAILED when its engine does not answer. */
  async list(sessionId: string): Promise<SandboxMap> {
    const probe = sandboxProbe(this.#driver, this.#sessions.sandboxOf(sessionId));
    try {
      const [containers, networks, volumes] = await Promise.all([
        probe.api('/containers/json?all=1'),
        probe.api('/networks'),
        probe.api('/volumes'),
      ]);
      return buildMap(containers.body, networks.body, volumes.body);
    } catch (err) {
      if (err instanceof PlatformFault) throw new ApiError('SANDBOX_FAILED', err.message);
      throw err;
    }
  }

  /** Calls `listener` with the map now and on every change; returns the unsubscribe function. */
  subscribe(sessionId: string, listener: (map: SandboxMap) => void): () => void {
    return this.#live.subscribe(sessionId, listener);
  }
}
