// The SandboxDriver contract: how the server creates, uses and removes sandboxes on some backend.
import type { Duplex } from 'node:stream';

/** Hard limits a sandbox runs under, enforced from outside it. */
export interface SandboxLimits {
  /** Memory, and memory+swap (no swap), in bytes. */
  memoryBytes: number;
  /** CPU share, in CPUs (0.5 = half a CPU). */
  cpus: number;
  /** Most processes and threads at once, inner containers included. */
  pids: number;
  /** Size cap on the inner engine's storage (/var/lib/docker), in bytes. */
  storageBytes: number;
}

export interface SandboxSpec {
  /** Stable id the server chose; the driver names and labels its objects with it. */
  id: string;
  limits: SandboxLimits;
  /** Extra labels (session, owner, expiry) put on the sandbox. */
  labels?: Record<string, string>;
  /**
   * A sandbox this one will share a peer network with (the first node of its session): a backend
   * of several hosts runs it on that sandbox's host, where their network is.
   */
  near?: string;
}

export interface Sandbox {
  id: string;
  /** The backend's handle (a container id for the docker driver). */
  ref: string;
  createdAt: Date;
  labels: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, then closed. */
  input?: string;
  /** Kill the wait after this long and reject (the command may go on in the sandbox). */
  timeoutMs?: number;
}

export interface TerminalOptions {
  cols: number;
  rows: number;
}

/** A private network joining the nodes (sandboxes) of one session, and nothing else. */
export interface PeerNetwork {
  id: string;
  labels: Record<string, string>;
}

/** What a terminal shows: its output (`replay` marks the scrollback sent on attaching), or its window size. */
export type TerminalEvent =
  { type: 'output'; data: Buffer; replay?: boolean } | { type: 'size'; cols: number; rows: number };

/**
 * A terminal in a sandbox, kept there (not by the server): it outlives the stream that shows it,
 * so any server process can attach to it again, with its scrollback and running programs.
 */
export interface TerminalStream {
  /**
   * Writes are keystrokes (bytes); reads are TerminalEvents (object mode). Pausing it pushes back to
   * the shell. Ending it lets go of the terminal, which keeps running for the next attach.
   */
  stream: Duplex;
  /** Whether the terminal was running before this stream: it shows it again, replaying its scrollback. */
  kept: boolean;
  resize(cols: number, rows: number): Promise<void>;
  /** Ends the terminal's shell, as closing its tab does. */
  hangUp(): Promise<void>;
  /**
   * Resolves once the stream has ended: with the shell's exit code; 'taken-over' when another attach
   * took the terminal (the shell goes on there); -1 when the sandbox or the connection went away.
   */
  ended: Promise<number | 'taken-over'>;
}

/** A sandbox that is gone for good without being removed: its host stopped answering, or it stopped. */
export interface LostSandbox {
  id: string;
  /** Why, for the logs: the host and what its manager said. */
  why: string;
}

/** A long-running command whose output is read line by line (e.g. `docker events`). */
export interface Watch {
  /** Ends the reading side; the command ends at its next write. */
  stop(): void;
  /** Resolves when the output ends, for whatever reason. */
  ended: Promise<void>;
}

/**
 * The kernel a sandbox's processes run on: the host's (runc, behind user namespaces, capabilities
 * and seccomp) or gVisor's user-space kernel (runsc). Learners meet a few differences under gVisor
 * (docs/security.md, "What does not work under gVisor"), which lessons point out.
 */
export type SandboxKernel = 'host' | 'gvisor';

export interface SandboxDriver {
  readonly name: string;
  /**
   * Whether its sandboxes may run on different hosts. A node of a session is then made `near` the
   * session's first sandbox, never taken from the warm pool (which may hold it on another host).
   */
  readonly spread: boolean;
  /** The kernel this driver's sandboxes run on. */
  kernel(): Promise<SandboxKernel>;
  /** Creates a sandbox and resolves once its inner engine answers. */
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Runs a command (no TTY) in the sandbox and collects its output. */
  exec(sandboxId: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a command and calls `onLine` with each line of its stdout as it comes. */
  watch(sandboxId: string, cmd: string[], onLine: (line: string) => void): Promise<Watch>;
  /**
   * A connection to a port the sandbox publishes (a learner's container's, or a program's in the
   * sandbox listening on all its addresses), for previews. Rejects, or ends at once without a byte,
   * when nothing listens there.
   */
  connect(sandboxId: string, port: number): Promise<Duplex>;
  /**
   * Shows terminal `name` (letters, digits, - and _) of the sandbox, first starting a login shell
   * on it in the learner's working directory when it is not running. One stream shows a terminal
   * at a time: a newer one takes it over.
   */
  openTerminal(sandboxId: string, name: string, opts: TerminalOptions): Promise<TerminalStream>;
  /** Shows terminal `name` read-only (writes are ignored); the stream ends at once, non-zero, when it is not running. */
  watchTerminal(sandboxId: string, name: string): Promise<TerminalStream>;
  /** The names of the sandbox's running terminals. */
  terminals(sandboxId: string): Promise<string[]>;
  /** Sandboxes this driver's backend holds, tracked or not. */
  list(): Promise<Sandbox[]>;
  /**
   * Sandboxes that will never answer again though nobody removed them: on a backend of several hosts,
   * those of a host that stopped answering. Their sessions end; removing them is still needed (it
   * cleans up what the backend holds, and the host's leftovers once it returns).
   */
  lost(): Promise<LostSandbox[]>;
  /** Removes a sandbox and everything in it. Removing one that is gone is not an error. */
  remove(sandboxId: string): Promise<void>;
  /**
   * Makes a private network for the nodes of one session. Nodes on it reach each other (by the
   * name they joined with) and nothing else they could not reach before; no other sandbox reaches
   * them through it. Making one that exists is not an error.
   */
  createPeerNetwork(networkId: string, labels?: Record<string, string>): Promise<void>;
  /**
   * Puts a sandbox on a peer network, where the other nodes reach it as `name`. On a backend of
   * several hosts, a sandbox joins only on its network's host (it was made `near` a node there).
   */
  joinPeerNetwork(networkId: string, sandboxId: string, name: string): Promise<void>;
  /** Removes a peer network, first taking any sandbox still on it off. Removing one that is gone is not an error. */
  removePeerNetwork(networkId: string): Promise<void>;
  /** The peer networks this backend holds, tracked or not. */
  listPeerNetworks(): Promise<PeerNetwork[]>;
}
