// Which OCI runtimes the integration tests put sandboxes on: DOCKYARD_TEST_RUNTIMES, comma-separated
// (default `runc`; the `runsc` tier of `npm test` sets `runsc`), each probed, with why it is skipped.
import { probeRunsc } from '../../../infra/setup/lib/runsc.ts';

export interface TestRuntime {
  runtime: string;
  /** Why this host cannot run sandboxes on it; undefined when it can. */
  skip?: string;
}

const wanted = (process.env.DOCKYARD_TEST_RUNTIMES || 'runc')
  .split(',')
  .map((r) => r.trim())
  .filter(Boolean);

/** The runtimes this run covers. runc is never probed: every engine has it. */
export async function testRuntimes(): Promise<TestRuntime[]> {
  return Promise.all(
    wanted.map(async (runtime) => {
      if (runtime === 'runc') return { runtime };
      const probe = await probeRunsc(runtime);
      return probe.ok
        ? { runtime }
        : { runtime, skip: `${runtime} cannot start a networked container on this host (${probe.reason})` };
    }),
  );
}

/** Whether this run covers runc (the tests that are about runc's own sandboxes run only then). */
export const coversRunc = wanted.includes('runc');
