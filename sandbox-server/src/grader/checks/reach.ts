// The `reach` check: one container resolves another by name and connects to its port.
import type { CheckOf } from '@dockyard/content';
import { PlatformFault, type Probe } from '../probe.ts';
import { inspectContainer, stateText } from './engine-state.ts';
import { no, ok, q, type Outcome } from './outcome.ts';

/**
 * From inside the `from` container's network namespace (nsenter, in the sandbox): its DNS (the
 * inner engine's resolver at 127.0.0.11 there) and its routes, whatever tools its image lacks.
 */
export async function reach(p: Probe, check: CheckOf<'reach'>): Promise<Outcome> {
  const from = await inspectContainer(p, check.from);
  if (!from) return no(`There is no container named ${check.from}.`);
  if (!from.State.Running) return no(`${check.from} is ${stateText(from)}; it must be running to reach ${check.to}.`);
  const inNs = `/usr/bin/nsenter -t ${from.State.Pid} -n`;
  const script =
    `ip=$(${inNs} /usr/bin/getent hosts ${q(check.to)} | awk '{print $1; exit}'); [ -n "$ip" ] || exit 3; ` +
    `${inNs} /usr/bin/timeout 3 /bin/bash -c "exec 3<>/dev/tcp/$ip/${check.port}" 2>/dev/null || exit 4`;
  const r = await p.sh(script, 10_000);
  if (![0, 3, 4].includes(r.exitCode))
    throw new PlatformFault(`the reachability probe failed: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  if (check.blocked) {
    if (r.exitCode === 0)
      return no(`${check.from} reaches ${check.to} on port ${check.port}; the two should be kept apart.`);
    return ok(
      r.exitCode === 3
        ? `${check.from} cannot even resolve ${check.to}: they are kept apart.`
        : `${check.from} resolves ${check.to} but cannot connect on port ${check.port}: they are kept apart.`,
    );
  }
  if (r.exitCode === 0) return ok(`${check.from} resolves ${check.to} and reaches it on port ${check.port}.`);
  if (r.exitCode === 3)
    return no(`${check.from} cannot resolve the name ${check.to}: are both on the same user-defined network?`);
  return no(`${check.from} resolves ${check.to}, but nothing answers on port ${check.port}.`);
}
