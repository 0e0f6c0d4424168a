// The sandbox's seccomp profile: Docker's own default profile plus only what an inner engine needs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface SyscallRule {
  names: string[];
  action: string;
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
  { name: 'keyctl', why: 'runc inside joins a session keyring for each container ("unable to join session keyring")' },
  { name: 'add_key', why: 'runc inside creates that session keyring' },
  { name: 'request_key', why: 'the keyring calls runc makes look keys up with it' },
  { name: 'pivot_root', why: 'runc inside switches each container into its root filesystem with it' },
];

/** The profile as the JSON text Docker's API takes in `SecurityOpt: ["seccomp=<json>"]`. */
export function sandboxSeccompProfile(): string {
  // docker-default.json is Docker Engine 20.10.24's profiles/seccomp/default.json (Apache-2.0),
  // taken from Debian's golang-github-docker-docker-dev package: the profile this engine applies
  // to ordinary containers.
  const profile = JSON.parse(readFileSync(join(import.meta.dirname, 'docker-default.json'), 'utf8')) as {
    syscalls: SyscallRule[];
  };
  profile.syscalls.push({
    names: SANDBOX_SYSCALL_ADDITIONS.map((a) => a.name),
    action: 'SCMP_ACT_ALLOW',
    args: [],
    comment: 'Dockyard: needed by the engine inside a sandbox (infra/engine/seccomp/sandbox-profile.ts)',
  });
  return JSON.stringify(profile);
}
