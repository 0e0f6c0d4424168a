// An in-memory SandboxDriver for unit tests of the layers above drivers (never the only test of a feature).
import { PassThrough } from 'node:stream';
import type {
  ExecResult,
  PeerNetwork,
  Sandbox,
  SandboxDriver,
  SandboxKernel,
  SandboxSpec,
  TerminalStream,
  Watch,
} from '../driver.ts';

export class FakeDriver implements SandboxDriver {
  readonly name = 'fake';
  readonly sandboxes = new Map<string, Sandbox>();
  /** Calls to create, in order (for assertions). */
  readonly created: SandboxSpec[] = [];
  /** Make the next create() calls fail. */
  failNext = 0;
  now = () => new Date();
  async kernel(): Promise<SandboxKernel> {
    return 'host';
  }

  async create(spec: SandboxSpec): Promise<Sandbox> {
    this.created.push(spec);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('fake engine refused');
    }
    const s = { id: spec.id, ref: `ref-${spec.id}`, createdAt: this.now(), labels: { ...spec.labels } };
    this.sandboxes.set(spec.id, s);
    return s;
  }

  /** Answers exec calls; by default echoes the command line. */
  onExec: (cmd: string[]) => ExecResult = (cmd) => ({ exitCode: 0, stdout: cmd.join(' '), stderr: '' });

  /** Every command exec ran, in order. */
  readonly ran: string[][] = [];

  /** Answers exec calls when the answer depends on the sandbox; defaults to onExec. */
  onExecIn: (sandboxId: string, cmd: string[]) => ExecResult = (_id, cmd) => this.onExec(cmd);

  async exec(sandboxId: string, cmd: string[]): Promise<ExecResult> {
    if (!this.sandboxes.has(sandboxId)) throw new Error(`no sandbox ${sandboxId}`);
    this.ran.push(cmd);
    return this.onExecIn(sandboxId, cmd);
  }

  /** Lines pushed to the watchers of a sandbox with `emit`. */
  readonly #watchers = new Map<string, Set<(line: string) => void>>();

  async watch(sandboxId: string, _cmd: string[], onLine: (line: string) => void): Promise<Watch> {
    if (!this.sandboxes.has(sandboxId)) throw new Error(`no sandbox ${sandboxId}`);
    let set = this.#watchers.get(sandboxId);
    if (!set) this.#watchers.set(sandboxId, (set = new Set()));
    set.add(onLine);
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    return { stop: () => (set.delete(onLine), end()), ended };
  }

  emit(sandboxId: string, line: string): void {
    for (const l of this.#watchers.get(sandboxId) ?? []) l(line);
  }

  /** Fake sandboxes "publish" on this host: tests serve their ports on loopback. */
  async address(): Promise<string> {
    return '127.0.0.1';
  }

  async openTerminal(sandboxId: string): Promise<TerminalStream> {
    if (!this.sandboxes.has(sandboxId)) throw new Error(`no sandbox ${sandboxId}`);
    const stream = new PassThrough();
    const exited = new Promise<number>((resolve) => stream.on('close', () => resolve(0)));
    return { stream, resize: async () => undefined, exited };
  }

  async list(): Promise<Sandbox[]> {
    return [...this.sandboxes.values()];
  }

  async remove(sandboxId: string): Promise<void> {
    this.sandboxes.delete(sandboxId);
    for (const n of this.peerNetworks.values()) n.members.delete(sandboxId);
  }

  /** Peer networks: their labels, and the sandboxes on them by the name each joined with. */
  readonly peerNetworks = new Map<string, { labels: Record<string, string>; members: Map<string, string> }>();

  async createPeerNetwork(networkId: string, labels: Record<string, string> = {}): Promise<void> {
    if (!this.peerNetworks.has(networkId)) this.peerNetworks.set(networkId, { labels, members: new Map() });
  }

  async joinPeerNetwork(networkId: string, sandboxId: string, name: string): Promise<void> {
    const n = this.peerNetworks.get(networkId);
    if (!n) throw new Error(`no peer network ${networkId}`);
    if (!this.sandboxes.has(sandboxId)) throw new Error(`no sandbox ${sandboxId}`);
    n.members.set(sandboxId, name);
  }

  async removePeerNetwork(networkId: string): Promise<void> {
    this.peerNetworks.delete(networkId);
  }

  async listPeerNetworks(): Promise<PeerNetwork[]> {
    return [...this.peerNetworks].map(([id, n]) => ({ id, labels: n.labels }));
  }
}
