// An in-memory SandboxDriver for unit tests of the layers above drivers (never the only test of a feature).
import { Duplex } from 'node:stream';
import type {
  ExecResult,
  LostSandbox,
  PeerNetwork,
  Sandbox,
  SandboxDriver,
  SandboxKernel,
  SandboxSpec,
  TerminalStream,
  Watch,
} from '../driver.ts';
import { tcpConnect } from '../docker/port-relay.ts';

export class FakeDriver implements SandboxDriver {
  readonly name = 'fake';
  /** As a backend of several hosts when set (nodes are then made, not taken from the pool). */
  spread = false;
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
  connect(_sandboxId: string, port: number): Promise<Duplex> {
    return tcpConnect('127.0.0.1', port);
  }

  /** Terminals kept per sandbox, as dockyard-tty keeps them: the echo of what was typed is their output. */
  readonly #terminals = new Map<string, Map<string, FakeTerminal>>();

  async openTerminal(sandboxId: string, name: string, opts: { cols: number; rows: number }): Promise<TerminalStream> {
    const kept = this.#terminalsOf(sandboxId);
    let t = kept.get(name);
    if (!t) kept.set(name, (t = new FakeTerminal(() => kept.delete(name), opts)));
    return t.attach();
  }

  async watchTerminal(sandboxId: string, name: string): Promise<TerminalStream> {
    const t = this.#terminalsOf(sandboxId).get(name);
    return t ? t.watch() : endedStream(1);
  }

  async terminals(sandboxId: string): Promise<string[]> {
    return [...this.#terminalsOf(sandboxId).keys()];
  }

  #terminalsOf(sandboxId: string): Map<string, FakeTerminal> {
    if (!this.sandboxes.has(sandboxId)) throw new Error(`no sandbox ${sandboxId}`);
    let kept = this.#terminals.get(sandboxId);
    if (!kept) this.#terminals.set(sandboxId, (kept = new Map()));
    return kept;
  }

  async list(): Promise<Sandbox[]> {
    return [...this.sandboxes.values()];
  }

  /** Sandboxes to report lost (as a host that stopped would), and why. */
  readonly lostOnes = new Map<string, string>();

  async lost(): Promise<LostSandbox[]> {
    return [...this.lostOnes].filter(([id]) => this.sandboxes.has(id)).map(([id, why]) => ({ id, why }));
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

type End = number | 'taken-over';

/** A stream of TerminalEvents that writes go to `onInput`; `finish` ends it. */
function terminalStream(onInput: (data: Buffer) => void, hangUp: () => void) {
  let finish!: (end: End) => void;
  const ended = new Promise<End>((resolve) => (finish = resolve));
  const stream = new Duplex({
    readableObjectMode: true,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      onInput(chunk);
      cb();
    },
    final(cb) {
      stream.push(null);
      finish(-1);
      cb();
    },
  });
  const end = (how: End) => {
    stream.push(null);
    finish(how);
  };
  const tty = { stream, ended, kept: false, resize: async () => undefined, hangUp: async () => hangUp() };
  return { stream, ended, end, tty };
}

function endedStream(code: number): TerminalStream {
  const s = terminalStream(
    () => undefined,
    () => undefined,
  );
  s.end(code);
  return s.tty;
}

/** One kept terminal: its scrollback, the stream showing it, and read-only watchers. */
class FakeTerminal {
  #scrollback = '';
  #attaches = 0;
  #shown: ReturnType<typeof terminalStream> | undefined;
  readonly #watchers = new Set<ReturnType<typeof terminalStream>>();
  readonly #gone: () => void;
  readonly #size: { cols: number; rows: number };

  constructor(gone: () => void, size: { cols: number; rows: number }) {
    this.#gone = gone;
    this.#size = size;
  }

  attach(): TerminalStream {
    this.#shown?.end('taken-over');
    const s = terminalStream(
      (data) => this.#output(data),
      () => this.#hangUp(),
    );
    s.tty.kept = this.#attaches++ > 0;
    this.#greet(s);
    this.#shown = s;
    void s.ended.then(() => this.#shown === s && (this.#shown = undefined));
    return s.tty;
  }

  watch(): TerminalStream {
    const s = terminalStream(
      () => undefined,
      () => undefined,
    );
    this.#greet(s);
    this.#watchers.add(s);
    return s.tty;
  }

  #greet(s: ReturnType<typeof terminalStream>): void {
    s.stream.push({ type: 'size', ...this.#size });
    if (this.#scrollback) s.stream.push({ type: 'output', data: Buffer.from(this.#scrollback), replay: true });
  }

  #output(data: Buffer): void {
    this.#scrollback = (this.#scrollback + data.toString()).slice(-64 * 1024);
    for (const s of [this.#shown, ...this.#watchers]) s?.stream.push({ type: 'output', data });
  }

  #hangUp(): void {
    this.#gone();
    for (const s of [this.#shown, ...this.#watchers]) s?.end(129);
  }
}
