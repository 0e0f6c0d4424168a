// Grades an exercise: every check evaluated against the sandbox (in parallel, each within its
// time budget and all within the exercise's), scored with partial credit. A check the platform
// could not evaluate is an error with its own message, never a failure the learner must fix.
import type { Check, Exercise } from '@dockyard/content';
import type { z } from 'zod';
import type { gradeReportSchema } from '../protocol/messages.ts';
import { evaluate } from './evaluators.ts';
import { PlatformFault, type Probe } from './probe.ts';

/** The report's shape is part of the WebSocket protocol (and REST), shared with the site. */
export type GradeReport = z.infer<typeof gradeReportSchema>;
export type CheckResult = GradeReport['checks'][number];

export interface GradeBudget {
  checkTimeoutMs: number;
  exerciseTimeoutMs: number;
}

export const DEFAULT_BUDGET: GradeBudget = { checkTimeoutMs: 8000, exerciseTimeoutMs: 20_000 };

const PLATFORM_MESSAGE =
  'We could not check this just now (a problem on our side, not yours). Check again in a moment.';

class Timeout extends Error {}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Timeout()), ms))),
  ]);
}

/** A check names a node (`node: node2`) that the session does not have. */
export class MissingNode extends Error {
  override name = 'MissingNode';
}

/** One sandbox, or the sandbox of each node a check names (node1 when it names none). */
export type Probes = Probe | ((node: string) => Probe);

async function gradeCheck(probes: Probes, check: Check, budgetMs: number): Promise<CheckResult> {
  const started = performance.now();
  const base = { id: check.id, title: check.title, points: check.points };
  try {
    const node = check.node ?? 'node1';
    const p = typeof probes === 'function' ? probes(node) : probes;
    const outcome = await within(evaluate(p, check), budgetMs);
    const ms = Math.round(performance.now() - started);
    return outcome.pass
      ? { ...base, status: 'passed', message: outcome.message, earned: check.points, ms }
      : {
          ...base,
          status: 'failed',
          message: outcome.message,
          ...(check.hint ? { hint: check.hint } : {}),
          earned: 0,
          ms,
        };
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    if (err instanceof MissingNode) {
      const message = `This check looks at ${check.node}, and your session has no ${check.node}. Reload the lesson page: it adds the nodes the lesson needs.`;
      return { ...base, status: 'failed', message, earned: 0, ms };
    }
    if (err instanceof Timeout || err instanceof PlatformFault) {
      return { ...base, status: 'error', message: PLATFORM_MESSAGE, earned: 0, ms };
    }
    throw err;
  }
}

export async function grade(
  exercise: Exercise,
  probe: Probes,
  budget: GradeBudget = DEFAULT_BUDGET,
): Promise<GradeReport> {
  const started = performance.now();
  const deadline = Date.now() + budget.exerciseTimeoutMs;
  const checks = await Promise.all(
    exercise.checks.map((c) =>
      gradeCheck(probe, c, Math.max(0, Math.min(budget.checkTimeoutMs, deadline - Date.now()))),
    ),
  );
  const score = checks.reduce((s, c) => s + c.earned, 0);
  const maxScore = checks.reduce((s, c) => s + c.points, 0);
  return {
    exercise: exercise.id,
    score,
    maxScore,
    passed: checks.every((c) => c.status === 'passed'),
    incomplete: checks.some((c) => c.status === 'error'),
    checks,
    ms: Math.round(performance.now() - started),
    gradedAt: Date.now(),
  };
}
