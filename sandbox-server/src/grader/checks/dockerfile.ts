// The `dockerfile` check: a Dockerfile in ~/work, parsed: stages, base images, order, user, lint rules.
import type { CheckOf } from '@dockyard/content';
import { finalInstructions, finalUser, isNonRoot, lint, parseDockerfile } from '../dockerfile.ts';
import type { Probe } from '../probe.ts';
import { readWorkFile } from './engine-state.ts';
import { no, ok, type Outcome } from './outcome.ts';

export async function dockerfile(p: Probe, check: CheckOf<'dockerfile'>): Promise<Outcome> {
  const text = await readWorkFile(p, check.path);
  if (text === undefined) return no(`There is no ${check.path} in ~/work.`);
  const df = parseDockerfile(text);
  const problems: string[] = [];
  const n = df.stages.length;
  if (n === 0) return no(`${check.path} has no FROM line.`);
  if (check.stages?.min !== undefined && n < check.stages.min)
    problems.push(`it has ${n} stage${n === 1 ? '' : 's'}; it needs at least ${check.stages.min}`);
  if (check.stages?.max !== undefined && n > check.stages.max)
    problems.push(`it has ${n} stages; it should have at most ${check.stages.max}`);
  if (check.baseImages) {
    const bases = df.stages.map((s) => s.baseImage);
    if (bases.join(',') !== check.baseImages.join(','))
      problems.push(`its stages start from ${bases.join(', ')}; they should start from ${check.baseImages.join(', ')}`);
  }
  if (check.order) {
    let last = -1;
    for (const prefix of check.order) {
      const [kw = '', ...rest] = prefix.split(/\s+/);
      const args = rest.join(' ');
      const at = df.instructions.findIndex(
        // "RUN npm ci" matches `RUN --mount=type=cache,... npm ci` too: flags only count when written.
        (i, idx) =>
          idx > last &&
          i.keyword === kw.toUpperCase() &&
          (`${i.flags} ${i.args}`.trim().startsWith(args) || i.args.startsWith(args)),
      );
      if (at < 0) {
        problems.push(
          `"${prefix}" should come after ${last < 0 ? 'the start' : `line ${df.instructions[last]!.line}`}, but it does not`,
        );
        break;
      }
      last = at;
    }
  }
  if (check.nonRootUser && !isNonRoot(finalUser(df)))
    problems.push('the final stage runs as root: add a USER that is not root');
  if (check.healthcheck !== undefined) {
    // The last HEALTHCHECK of the final stage or of a stage it is built on counts; NONE turns it off.
    const last = finalInstructions(df).findLast((i) => i.keyword === 'HEALTHCHECK');
    const has = last !== undefined && !/^NONE\b/i.test(last.args.trim());
    if (has !== check.healthcheck)
      problems.push(
        check.healthcheck ? 'the final stage has no HEALTHCHECK' : 'the final stage has a HEALTHCHECK; it should not',
      );
  }
  for (const rule of check.noFindings ?? []) problems.push(...lint(df, rule));
  return problems.length ? no(`In ${check.path}: ${problems.join('; ')}.`) : ok(`${check.path} is as expected.`);
}
