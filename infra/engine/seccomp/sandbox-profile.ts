// The sandbox's seccomp profile: Docker's own default profile, plus only what an inner engine needs,
// minus the kernel facilities whose quotas every sandbox would share.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface SyscallRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: unknown[];
  comment?: string;
  includes?: Record<string, unknown>;
  excludes?: Record<string, unknown>;
}

/**
 * Added to Docker's default profile, each for a reason. Everything else the default blocks stays
 * blocked (userfaultfd, kexec_load, open_by_handle_at, ...). The default already allows mount,
 * unshare, setns and clone with namespaces when the container has CAP_SYS_ADMIN, as sandboxes do.
 */
export const SANDBOX_SYSCALL_ADDITIONS: readonly { name: string; why: string }[] = [
  { name: 'pivot_root', why: 'runc inside switches each container into its root filesystem with it' },
];

/** ENOSYS, "Function not implemented": software treats the facility as absent and does without it. */
export const ENOSYS = 38;

/**
 * Out of reach: these fail with ENOSYS in a sandbox, its shells and its inner containers. With user
 * namespaces every sandbox's root is the same host uid (100000), and the kernel counts each of these
 * per host uid, so one learner could use up the quota of all of them. See docs/security.md.
 */
export const SANDBOX_SYSCALL_REFUSALS: readonly { name: string; why: string }[] = [
  {
    name: 'keyctl',
    why: 'kernel keyring quota (kernel.keys.maxkeys, 200 keys per uid): runc inside gives every container a session keyring, and skips it when keyctl is ENOSYS',
  },
  { name: 'add_key', why: 'the same keyring quota' },
  { name: 'request_key', why: 'the same keyring quota' },
  {
    name: 'fanotify_init',
    why: 'fanotify groups and marks are counted for the owner of the user namespace (host root)',
  },
  { name: 'io_uring_setup', why: "io_uring's registered buffers count against one locked-memory total per uid" },
  { name: 'io_uring_enter', why: 'the same (nothing to enter without io_uring_setup)' },
  { name: 'io_uring_register', why: 'the same' },
  { name: 'mq_open', why: 'POSIX message queue bytes are counted for host root, 800 KiB for every sandbox together' },
  { name: 'perf_event_open', why: "perf's ring buffers count against one locked-memory allowance per uid" },
];

/** The profile as the JSON text Docker's API takes in `SecurityOpt: ["seccomp=<json>"]`. */
export function sandboxSeccompProfile(): string {
  // docker-default.json is Docker Engine 20.10.24's profiles/seccomp/default.json (Apache-2.0),
  // taken from Debian's golang-github-docker-docker-dev package: the profile this engine applies
  // to ordinary containers.
  const profile = JSON.parse(readFileSync(join(import.meta.dirname, 'docker-default.json'), 'utf8')) as {
    syscalls: SyscallRule[];
  };
  const refused = new Set(SANDBOX_SYSCALL_REFUSALS.map((r) => r.name));
  // A refused syscall is in no other rule, so no rule of the default can allow it again.
  profile.syscalls = profile.syscalls
    .map((rule) => ({ ...rule, names: rule.names.filter((n) => !refused.has(n)) }))
    .filter((rule) => rule.names.length > 0);
  profile.syscalls.push(
    {
      names: SANDBOX_SYSCALL_ADDITIONS.map((a) => a.name),
      action: 'SCMP_ACT_ALLOW',
      args: [],
      comment: 'Dockyard: needed by the engine inside a sandbox (infra/engine/seccomp/sandbox-profile.ts)',
    },
    {
      names: [...refused],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: ENOSYS,
      args: [],
      comment: 'Dockyard: quotas all sandboxes share, out of reach (infra/engine/seccomp/sandbox-profile.ts)',
    },
  );
  return JSON.stringify(profile);
}
