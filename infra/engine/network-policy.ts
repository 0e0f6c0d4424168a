// The sandbox network policy, as iptables rules: sandboxes reach the mirror (and an allow-list),
// never each other, the host, private ranges or the cloud metadata address.
import { run } from '../setup/lib/run.ts';

/** Bridge interface of the sandbox network (set when the network is created). */
export const SANDBOX_BRIDGE = 'dockyard0';
/** Our chains: forwarded traffic from sandboxes, and traffic from sandboxes to the host itself. */
export const FORWARD_CHAIN = 'DOCKYARD-SANDBOX';
export const INPUT_CHAIN = 'DOCKYARD-SANDBOX-IN';
/** Bridge names of the private networks between a session's nodes begin with this (peer-network.ts). */
export const PEER_BRIDGES = 'dyp';

/** Never reachable from a sandbox, allow-list or not. */
export const BLOCKED_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'];

export interface PolicyOptions {
  bridge: string;
  /** The mirror container's address on the sandbox network, and its port. */
  mirrorIp: string;
  mirrorPort: number;
  /** Public destinations (CIDRs) sandboxes may reach; empty: no egress but the mirror. */
  egressAllow: readonly string[];
  /** The network namespace (/run/netns/<name>) of the engine's bridges, when not this process's (test hosts). */
  netns?: string;
}

/**
 * Refused, not silently dropped: a denied connection or DNS query fails at once instead of after a
 * timeout (the inner engine looks Docker Hub up on every pull; a learner's curl says "refused").
 */
const DENY = ['-j', 'REJECT'];

/** The iptables argument lists that build both chains, in order (after they are flushed). */
export function policyRules(o: PolicyOptions): string[][] {
  const fwd = (...rule: string[]) => ['-A', FORWARD_CHAIN, ...rule];
  const inp = (...rule: string[]) => ['-A', INPUT_CHAIN, ...rule];
  return [
    // Replies to connections that were allowed.
    fwd('-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'),
    // The mirror itself may go out (online mode proxies Docker Hub); it is ours, not a learner's.
    fwd('-s', `${o.mirrorIp}/32`, '-j', 'RETURN'),
    fwd('-d', `${o.mirrorIp}/32`, '-p', 'tcp', '--dport', String(o.mirrorPort), '-j', 'RETURN'),
    // Sandbox to sandbox: nothing.
    fwd('-o', o.bridge, ...DENY),
    ...BLOCKED_RANGES.map((cidr) => fwd('-d', cidr, ...DENY)),
    ...o.egressAllow.map((cidr) => fwd('-d', cidr, '-j', 'RETURN')),
    fwd(...DENY),
    // The host (its API, its published ports) answers sandboxes nothing they did not ask for.
    inp('-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'),
    inp(...DENY),
  ];
}

/** Validates the allow-list. Private ranges stay closed whatever it says: they are dropped before it is read. */
export function parseEgressAllow(raw: string): string[] {
  const cidrs = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of cidrs) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(c);
    if (!m || m.slice(1, 5).some((n) => Number(n) > 255) || Number(m[5] ?? 32) > 32) {
      throw new Error(`DOCKYARD_EGRESS_ALLOW: "${c}" is not an IPv4 address or CIDR such as 151.101.0.0/16.`);
    }
  }
  return cidrs.map((c) => (c.includes('/') ? c : `${c}/32`));
}

/** Creates or rebuilds both chains and hooks them in (idempotent: safe on every start). */
export async function applyPolicy(o: PolicyOptions): Promise<number> {
  const inNetns = o.netns ? ['nsenter', `--net=/run/netns/${o.netns}`] : [];
  const iptables = async (args: string[]) => (await run([...inNetns, 'iptables', '-w', ...args])).code;
  for (const chain of [FORWARD_CHAIN, INPUT_CHAIN]) {
    if ((await iptables(['-N', chain])) !== 0) await iptables(['-F', chain]);
  }
  // The peer networks of sessions with several nodes (bridges dyp...) are internal: the engine
  // routes nothing off them, but the host itself has an address there; it answers nothing new.
  for (const [chain, parent, bridge] of [
    [FORWARD_CHAIN, 'DOCKER-USER', o.bridge],
    [INPUT_CHAIN, 'INPUT', o.bridge],
    [INPUT_CHAIN, 'INPUT', `${PEER_BRIDGES}+`],
  ] as const) {
    const hook = [parent, '-i', bridge, '-j', chain];
    if ((await iptables(['-C', ...hook])) !== 0) {
      if ((await iptables(['-I', ...hook.slice(0, 1), '1', ...hook.slice(1)])) !== 0) {
        throw new Error(
          `Could not hook ${chain} into ${parent}: is iptables usable here (root, the engine's backend)?`,
        );
      }
    }
  }
  const rules = policyRules(o);
  for (const rule of rules) {
    if ((await iptables(rule)) !== 0) throw new Error(`iptables ${rule.join(' ')} failed`);
  }
  return rules.length;
}
