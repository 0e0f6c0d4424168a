// Kernel limits every sandbox shares, sized from the configured capacity.
//
// With user namespaces every sandbox's root is the same host uid (100000), and each sandbox's user
// namespace is owned by host root, who created it. The kernel counts many objects per uid (keys,
// epoll watches, pipe buffers), per owner of the user namespace (inotify, fanotify, namespaces) or
// for the whole host (open files, AIO, pids): one pool for every learner, and for host root too.
// Each one is either out of a sandbox's reach (seccomp/sandbox-profile.ts) or sized here so that every
// sandbox at its own limits fits: the set-up raises these sysctls (persisted in /etc/sysctl.d/),
// the server checks them at start-up, and docs/security.md has the numbers.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { mustRun } from '../setup/lib/run.ts';

/** What the configuration lets run on this host: `DOCKYARD_MAX_SANDBOXES` sandboxes of these limits. */
export interface Capacity {
  maxSandboxes: number;
  memoryBytes: number;
  pids: number;
}

const MiB = 2 ** 20;

/**
 * Keyring keys a sandbox takes from sandbox root's quota. Keys are out of a learner's reach
 * (keyctl is ENOSYS inside), but the host's runc gives a session keyring to the sandbox's first
 * process and to every `docker exec` while it runs: the terminals (at most 8), the engine-event
 * watch, and the grader's and file API's short commands.
 */
export const KEYS_PER_SANDBOX = 16;
/** The kernel's own ratio of kernel.keys.maxbytes to maxkeys (20000 / 200); a runc keyring takes 70. */
const BYTES_PER_KEY = 100;

/** Real-time signals and POSIX timers one sandbox may have queued at once (its RLIMIT_SIGPENDING). */
export const SIGPENDING_PER_SANDBOX = 128;

/** Namespaces of each kind a sandbox may hold: its own plus one set per inner container. */
export const namespacesPerSandbox = (pids: number): number => Math.min(pids, 128);

/**
 * Limits of each sandbox's own user namespace (its /proc/sys/user), set from the host when the
 * sandbox starts (confineUserNamespace). The kernel counts these per uid inside the namespace, and
 * then once more for the namespace's owner, host root, against the host's values, which
 * KERNEL_LIMITS sizes.
 */
export function sandboxUsernsLimits(pids: number): Record<string, number> {
  const ns = namespacesPerSandbox(pids);
  return {
    max_user_namespaces: ns,
    max_pid_namespaces: ns,
    max_uts_namespaces: ns,
    max_ipc_namespaces: ns,
    max_net_namespaces: ns,
    max_mnt_namespaces: ns,
    max_cgroup_namespaces: ns,
    max_time_namespaces: ns,
    max_inotify_instances: 1024,
    max_inotify_watches: 65536,
    // fanotify_init is ENOSYS in sandboxes too (seccomp): nothing to count.
    max_fanotify_groups: 0,
    max_fanotify_marks: 0,
  };
}

/**
 * Sets the limits of a sandbox's user namespace. Only a process inside that namespace with
 * CAP_SYS_RESOURCE there may write them: host root entering it as its owner has every capability
 * in it; the sandbox's own root lacks CAP_SYS_RESOURCE and can only read them.
 */
export async function confineUserNamespace(pid: number, pids: number): Promise<void> {
  const writes = Object.entries(sandboxUsernsLimits(pids)).map(
    ([name, value]) => `[ ! -e /proc/sys/user/${name} ] || echo ${value} > /proc/sys/user/${name}`,
  );
  await mustRun(['nsenter', '--user', '--target', String(pid), '--', 'sh', '-ec', writes.join('\n')]);
}

export interface KernelLimit {
  /** The sysctl, or for `rlimit` the resource whose pool it is. */
  key: string;
  /** Whose count it is. */
  pool: string;
  /** The most one sandbox can hold, and what bounds it. */
  perSandbox(c: Capacity): number;
  bound: string;
  /** Left for everything else on the host. */
  host: number;
  /** Where the current value is read; the set-up writes sysctls only. */
  read(): Promise<number | undefined>;
  /** How to raise it when the set-up cannot. */
  raise: string;
}

/**
 * Bytes each object below costs its sandbox's memory cgroup, at the least: the kernel charges them
 * there, so a sandbox holds at most memory / size of them. Measured on this kernel in 64 MiB
 * containers: about 880 B per inotify instance (file, group, event), 100 B per inotify watch, 200 B
 * per epoll watch, 190 B per open file; AIO rings were charged too.
 */
const CHARGED_BYTES = {
  inotifyInstance: 512,
  inotifyWatch: 64,
  epollWatch: 128,
  file: 128,
  // An empty pipe charges its inode, two files and a 16-slot buffer array: 64 B per counted page slot.
  pipePageSlot: 64,
  // io_setup(n) counts 2n against aio-max-nr and maps a ring of n 32-byte events.
  aioRequest: 16,
} as const;

const byMemory = (bytes: number) => (c: Capacity) => Math.floor(c.memoryBytes / bytes);
const sysctlPath = (key: string) => `/proc/sys/${key.replaceAll('.', '/')}`;

export async function readSysctl(key: string): Promise<number | undefined> {
  const text = await readFile(sysctlPath(key), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.trim().split(/\s+/)[0]);
}

/**
 * The soft RLIMIT_SIGPENDING of the host engine's containerd (not those inside sandboxes, whose root
 * is another uid): runc inherits it, and it becomes the pool.
 */
async function engineSigpending(): Promise<number | undefined> {
  let lowest: number | undefined;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() !== 'containerd') continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    if (/^Uid:\s+(\d+)/m.exec(status)?.[1] !== '0') continue;
    const limits = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => '');
    const soft = /^Max pending signals\s+(\S+)/m.exec(limits)?.[1];
    if (soft) lowest = Math.min(lowest ?? Infinity, soft === 'unlimited' ? Infinity : Number(soft));
  }
  return lowest;
}

const SETUP = 'npm run setup raises it';
const sysctl = (key: string, pool: string, bound: string, perSandbox: (c: Capacity) => number, host: number) =>
  ({ key, pool, bound, perSandbox, host, read: () => readSysctl(key), raise: SETUP }) satisfies KernelLimit;
const namespaces = (kind: string) =>
  ({
    ...sysctl(
      `user.max_${kind}_namespaces`,
      'host root (owner of every sandbox user namespace)',
      'the cap set in its own user namespace (its pids limit, at most 128), plus that user namespace',
      (c) => namespacesPerSandbox(c.pids) + 1,
      4096,
    ),
    raise: 'writing it needs CAP_SYS_RESOURCE; where the set-up lacks it, lower DOCKYARD_MAX_SANDBOXES',
  }) satisfies KernelLimit;

export const KERNEL_LIMITS: readonly KernelLimit[] = [
  sysctl('kernel.keys.maxkeys', 'uid 100000', `${KEYS_PER_SANDBOX} keys`, () => KEYS_PER_SANDBOX, 200),
  sysctl(
    'kernel.keys.maxbytes',
    'uid 100000',
    `${KEYS_PER_SANDBOX} keys of ${BYTES_PER_KEY} bytes`,
    () => KEYS_PER_SANDBOX * BYTES_PER_KEY,
    20000,
  ),
  sysctl('kernel.pid_max', 'the whole host', 'its pids limit', (c) => c.pids, 32768),
  sysctl('kernel.threads-max', 'the whole host', 'its pids limit', (c) => c.pids, 32768),
  sysctl(
    'fs.inotify.max_user_instances',
    'host root (owner of every sandbox user namespace)',
    `its memory: ${CHARGED_BYTES.inotifyInstance} B charged per instance`,
    byMemory(CHARGED_BYTES.inotifyInstance),
    128,
  ),
  sysctl(
    'fs.inotify.max_user_watches',
    'host root (owner of every sandbox user namespace)',
    `its memory: ${CHARGED_BYTES.inotifyWatch} B charged per watch`,
    byMemory(CHARGED_BYTES.inotifyWatch),
    65536,
  ),
  sysctl(
    'fs.epoll.max_user_watches',
    'uid 100000',
    `its memory: ${CHARGED_BYTES.epollWatch} B charged per watch`,
    byMemory(CHARGED_BYTES.epollWatch),
    0,
  ),
  sysctl(
    'fs.pipe-user-pages-soft',
    'uid 100000',
    `its memory: ${CHARGED_BYTES.pipePageSlot} B charged per pipe page slot`,
    byMemory(CHARGED_BYTES.pipePageSlot),
    16384,
  ),
  sysctl(
    'fs.file-max',
    'the whole host (root is exempt)',
    `its memory: ${CHARGED_BYTES.file} B charged per open file`,
    byMemory(CHARGED_BYTES.file),
    1 << 20,
  ),
  sysctl(
    'fs.aio-max-nr',
    'the whole host',
    `its memory: ${CHARGED_BYTES.aioRequest} B of ring charged per request`,
    byMemory(CHARGED_BYTES.aioRequest),
    65536,
  ),
  ...['user', 'pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup', 'time'].map(namespaces),
  {
    key: 'RLIMIT_SIGPENDING',
    pool: 'host root (the pool is the soft limit the engine runs with, `ulimit -i` of containerd)',
    bound: `${SIGPENDING_PER_SANDBOX} (its own RLIMIT_SIGPENDING)`,
    perSandbox: () => SIGPENDING_PER_SANDBOX,
    host: 8192,
    read: engineSigpending,
    raise: 'start the engine with a higher `ulimit -i`, or lower DOCKYARD_MAX_SANDBOXES',
  },
];

export interface LimitStatus {
  limit: KernelLimit;
  current: number | undefined;
  required: number;
}

/** What every sandbox at its own limits, plus the host's share, needs of a limit. */
export const requiredValue = (limit: KernelLimit, c: Capacity): number =>
  limit.host + c.maxSandboxes * limit.perSandbox(c);

/** How many sandboxes a limit's current value leaves room for. */
export const sandboxesFitting = (s: LimitStatus, c: Capacity): number =>
  s.current === undefined ? Infinity : Math.max(0, Math.floor((s.current - s.limit.host) / s.limit.perSandbox(c)));

export async function limitStatus(c: Capacity): Promise<LimitStatus[]> {
  return Promise.all(
    KERNEL_LIMITS.map(async (limit) => ({ limit, current: await limit.read(), required: requiredValue(limit, c) })),
  );
}

/** The limits whose current value is too low for the capacity (one the kernel lacks is not). */
export async function shortfalls(c: Capacity): Promise<LimitStatus[]> {
  return (await limitStatus(c)).filter((s) => s.current !== undefined && s.current < s.required);
}

export const SYSCTL_FILE = '/etc/sysctl.d/60-dockyard.conf';

export interface RaiseResult {
  raised: LimitStatus[];
  /** Still too low: the kernel refused the value (user.* needs CAP_SYS_RESOURCE), or it is no sysctl. */
  refused: LimitStatus[];
}

/**
 * Raises every sysctl below what the capacity needs (never lowers one) and writes them all to
 * SYSCTL_FILE, so that a reboot keeps them. Needs root.
 */
export async function raiseKernelLimits(c: Capacity, file = SYSCTL_FILE): Promise<RaiseResult> {
  const result: RaiseResult = { raised: [], refused: [] };
  const lines = [
    '# Written by the Dockyard set-up (infra/engine/host-limits.ts): kernel limits every sandbox shares,',
    `# last sized for ${c.maxSandboxes} sandboxes of ${Math.round(c.memoryBytes / MiB)} MiB and ${c.pids} pids; a value is never lowered.`,
    '# See docs/security.md.',
    '# A leading "-" tells systemd-sysctl to go on when the kernel refuses the value.',
  ];
  for (const s of await limitStatus(c)) {
    const isSysctl = !s.limit.key.startsWith('RLIMIT_');
    if (s.current === undefined || (!isSysctl && s.current >= s.required)) continue;
    let ok = s.current >= s.required;
    if (!ok && isSysctl) {
      ok = await writeFile(sysctlPath(s.limit.key), String(s.required)).then(
        () => true,
        () => false,
      );
      if (ok) result.raised.push(s);
    }
    if (!ok) result.refused.push(s);
    // user.* takes CAP_SYS_RESOURCE, which a host may lack at boot as it does now.
    const optional = !ok || s.limit.key.startsWith('user.');
    if (isSysctl) lines.push(`${optional ? '-' : ''}${s.limit.key} = ${Math.max(s.current, s.required)}`);
  }
  await writeFile(file, `${lines.join('\n')}\n`);
  return result;
}
