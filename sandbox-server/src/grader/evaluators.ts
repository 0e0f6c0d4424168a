// One evaluator per check kind, each in its own file under checks/. Each reads the sandbox through a
// Probe and says, in the learner's terms, what it found against what was expected. Trouble looking
// (engine silent, timeout) is a PlatformFault, reported as an error, never as a failed check.
import type { Check, CheckKind, CheckOf } from '@dockyard/content';
import type { Probe } from './probe.ts';
import { command } from './checks/command.ts';
import { compose } from './checks/compose.ts';
import { container } from './checks/container.ts';
import { dockerfile } from './checks/dockerfile.ts';
import { file } from './checks/file.ts';
import { http } from './checks/http.ts';
import { image } from './checks/image.ts';
import { network } from './checks/network.ts';
import type { Outcome } from './checks/outcome.ts';
import { reach } from './checks/reach.ts';
import { registry } from './checks/registry.ts';
import { volume } from './checks/volume.ts';

export { sameImageRef, textMatches, type Outcome } from './checks/outcome.ts';

type Evaluators = { [K in CheckKind]: (p: Probe, check: CheckOf<K>) => Promise<Outcome> };

export const evaluators: Evaluators = {
  container,
  image,
  network,
  reach,
  volume,
  http,
  file,
  dockerfile,
  compose,
  registry,
  command,
};

export function evaluate(p: Probe, check: Check): Promise<Outcome> {
  return (evaluators[check.kind] as (p: Probe, c: Check) => Promise<Outcome>)(p, check);
}
