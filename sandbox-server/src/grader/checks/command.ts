// The `command` check, the last resort: a bash command's exit code and output.
import type { CheckOf } from '@dockyard/content';
import type { Probe } from '../probe.ts';
import { describeMatch, no, ok, quote, textMatches, type Outcome } from './outcome.ts';

export async function command(p: Probe, check: CheckOf<'command'>): Promise<Outcome> {
  const r = await p.sh(check.run, 10_000);
  if (r.exitCode !== check.exitCode)
    return no(`\`${check.run}\` exited with ${r.exitCode}; it should exit with ${check.exitCode}.`);
  const out = r.stdout.trim();
  if (check.output && !textMatches(out, check.output))
    return no(`\`${check.run}\` printed ${quote(out)}; it should print ${describeMatch(check.output)}.`);
  return ok(`\`${check.run}\` gave what was expected.`);
}
