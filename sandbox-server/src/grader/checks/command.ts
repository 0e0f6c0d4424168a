// The `command` check, the last resort: a bash command's exit code and output.
import type { CheckOf } from '@dockyard/content';
import type { Probe } from '../probe.ts';
import { describeMatch, no, ok, quote, textMatches, type Outcome } from './outcome.ts';

/** A command short enough to read in a message is shown; a long script is named, not pasted. */
const LONGEST_SHOWN = 80;

export async function command(p: Probe, check: CheckOf<'command'>): Promise<Outcome> {
  const what = check.run.length <= LONGEST_SHOWN ? `\`${check.run}\`` : "The grader's test for this check";
  const r = await p.sh(check.run, 10_000);
  if (r.exitCode !== check.exitCode)
    return no(`${what} exited with ${r.exitCode}; it should exit with ${check.exitCode}.`);
  const out = r.stdout.trim();
  if (check.output && !textMatches(out, check.output))
    return no(`${what} printed ${quote(out)}; it should print ${describeMatch(check.output)}.`);
  return ok(`${what} gave what was expected.`);
}
