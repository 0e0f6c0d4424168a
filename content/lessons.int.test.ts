// Clicks through every lesson: in a fresh sandbox of its own, with its exercises' starter files, each
// <Run> command in reading order must succeed, as it would for a learner. Needs a Docker Engine.
// A lesson of several nodes (`nodes`, `template`) gets them, its Swarm formed, and its Runs go to node1.
// Lessons run side by side (LESSON_PARALLEL, default 3), each in its own sandbox. One lesson:
//   npx vitest run content/lessons.int.test.ts -t <slug>      (or npm run content:lesson -- <slug>)
// On runsc (DOCKYARD_TEST_RUNTIMES=runsc, the `runsc` tier) a representative subset runs, RUNSC_LESSONS;
// DOCKYARD_TEST_ALL_LESSONS=1 runs every lesson that has one node (gVisor sandboxes have no peers).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DockerDriver } from '../sandbox-server/src/drivers/docker/docker-driver.ts';
import { dockerClient } from '../sandbox-server/src/engine/engine.ts';
import { SandboxFiles } from '../sandbox-server/src/files/sandbox-files.ts';
import { WORK_DIR } from '../sandbox-server/src/grader/probe.ts';
import { createNodes, type NodeSet } from '../sandbox-server/src/sessions/node-set.ts';
import { loadExercises, type Exercise } from './src/exercises.ts';
import { loadLessons } from './src/lessons.ts';
import { testRuntimes } from '../sandbox-server/src/test-support/runtimes.ts';

const GiB = 2 ** 30;
const LIMITS = { memoryBytes: 2 * GiB, cpus: 1, pids: 1024, storageBytes: 4 * GiB };
/** One command: a Go build on the sandbox's one CPU took over 2 minutes once on a busy CI machine. */
const TIMEOUT_MS = 240_000;
/** A learner reads for a while between two clicks: a failing step gets this long to succeed (a server starting). */
const SETTLE_MS = 10_000;

/** The content of `path` as an exercise's solution writes it, with a quoted heredoc (`cat > path <<'END'`). */
function solutionFile(exercises: Exercise[], path: string): string {
  const heredoc = new RegExp(`cat > ${path} <<'(\\w+)'\\n([\\s\\S]*?\\n)\\1\\n`);
  for (const e of exercises) {
    const m = heredoc.exec(e.solution);
    if (m) return m[2]!;
  }
  throw new Error(`no solution of ${exercises.map((e) => e.id).join(', ')} writes ${path} with a heredoc`);
}

// `script` gives the command a terminal; the keys follow once it is up (Ctrl-Q would be eaten as XON before).
const TYPE = 'cmd=$1; shift; { for k in "$@"; do sleep 1; printf %s "$k"; done; } | script -qec "$cmd" /dev/null';

/**
 * Each Run goes to the same shell, as in the learner's terminal: a `cd` or an `export` in one Run
 * holds for the next. The folder and the exported variables are carried in files between the
 * separate bash processes that run the commands.
 */
const STATE = '/tmp/.dockyard-lesson';
const inShell = (cmd: string) =>
  `cd "$(cat ${STATE}-cwd 2>/dev/null || echo ${WORK_DIR})"; [ -f ${STATE}-env ] && . ${STATE}-env
${cmd}
rc=$?; pwd >${STATE}-cwd; export -p >${STATE}-env; exit $rc`;

/**
 * The lessons proved on runsc in CI: image builds with BuildKit (a cache mount, several stages),
 * published ports, user-defined networks with DNS, volumes, Compose, and what needed a fix of
 * gVisor's or of the sandbox's networking under it.
 */
export const RUNSC_LESSONS = [
  'first-dockerfile',
  'publishing-ports',
  'build-cache',
  'user-defined-networks',
  'volumes',
  'compose-basics',
  'multi-stage-builds',
  // A Compose app whose api crashes while the next service starts (a veth deadlock in gVisor 20240729).
  'start-order-and-scaling',
  // A container reaching a published port at the sandbox's own address (the hairpin NAT).
  'network-isolation',
];

const exercises = loadExercises();
const lessons = loadLessons(undefined, exercises);

for (const { runtime, skip } of await testRuntimes()) {
  const driver = new DockerDriver(dockerClient('/var/run/docker.sock'), { runtime });
  const mine =
    runtime === 'runc'
      ? lessons
      : lessons.filter(
          (l) =>
            l.frontmatter.nodes === 1 &&
            (process.env.DOCKYARD_TEST_ALL_LESSONS === '1' || RUNSC_LESSONS.includes(l.slug)),
        );
  const title = runtime === 'runc' ? '' : ` on ${runtime}${skip ? `, skipped: ${skip}` : ''}`;

  describe.skipIf(skip !== undefined).concurrent(`lessons, clicked through in a fresh sandbox${title}`, () => {
    it.each(mine.map((l) => [l.slug, l] as const))(
      '%s: every Run succeeds in order',
      async (_slug, lesson) => {
        let set: NodeSet | undefined;
        try {
          set = await createNodes(driver, {
            id: `l${randomBytes(5).toString('hex')}`,
            nodes: lesson.frontmatter.nodes,
            template: lesson.frontmatter.template,
            limits: LIMITS,
            labels: { 'org.dockyard.test': `lesson-${lesson.slug}` },
          });
          const id = set.nodes[0]!.sandboxId;
          const exec = (cmd: string[]) => driver.exec(id, cmd, { timeoutMs: TIMEOUT_MS });
          const files = new SandboxFiles((cmd, o) => driver.exec(id, cmd, o), { root: WORK_DIR, maxBytes: 1 << 20 });
          const mine = exercises.filter((e) => lesson.frontmatter.exercises.includes(e.id));
          for (const e of mine) {
            for (const [path, content] of Object.entries(e.starter.files)) await files.write(path, content);
            if (e.starter.setup) expect((await exec(['bash', '-e', '-c', e.starter.setup])).exitCode).toBe(0);
          }
          for (const path of lesson.frontmatter.saved) await files.write(path, solutionFile(mine, path));
          for (const [i, cmd] of lesson.runs.entries()) {
            const step = `content/lessons/${lesson.slug}.mdx:${lesson.runLines[i]}: Run ${i + 1} of ${lesson.runs.length}: ${cmd}`;
            const typed = lesson.frontmatter.interactive.find((t) => t.cmd === cmd);
            if (typed) {
              const r = await exec(['bash', '-c', inShell(TYPE), 'type', cmd, ...typed.keys]);
              expect(r.exitCode, `${step}\n${r.stdout}${r.stderr}`).toBe(typed.exitCode);
              continue;
            }
            let r = await exec(['bash', '-c', inShell(cmd)]);
            const first = r;
            // From its failure, not its start: a step that pulled for longer than this still gets its
            // second try (`docker compose up -d` once met "cannot start a stopped process" on runsc).
            const deadline = Date.now() + SETTLE_MS;
            while (r.exitCode !== 0 && Date.now() < deadline) {
              await new Promise((res) => setTimeout(res, 1000));
              r = await exec(['bash', '-c', inShell(cmd)]);
            }
            expect(r.exitCode, `${step}\nexit ${first.exitCode}: ${first.stderr || first.stdout}`).toBe(0);
          }
        } finally {
          await set?.remove();
        }
      },
      // The longest lesson's commands (builds, pulls) on a busy 2-core machine, with other lessons beside it.
      600_000,
    );
  });
}
