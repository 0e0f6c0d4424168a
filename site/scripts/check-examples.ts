// Runs each "Open in playground" example as the playground does, each in a fresh sandbox of its own:
// its build context, then its file, written into ~/work, then its run command, which must succeed
// (and a Compose project's containers must all be running). Needs a Docker Engine with the sandbox
// image, as the integration tests do. Exits 1 if any example fails.
//   node site/scripts/check-examples.ts [example id ...]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DockerDriver } from '../../sandbox-server/src/drivers/docker/docker-driver.ts';
import { dockerClient } from '../../sandbox-server/src/engine/engine.ts';
import { SandboxFiles } from '../../sandbox-server/src/files/sandbox-files.ts';
import { WORK_DIR } from '../../sandbox-server/src/grader/probe.ts';
import { lessons, loadExercises, LESSONS_DIR } from '../../content/src/index.ts';
import { collectExamples, type Example } from '../src/lib/examples.ts';

const GiB = 2 ** 30;
const LIMITS = { memoryBytes: 2 * GiB, cpus: 1, pids: 1024, storageBytes: 4 * GiB };
/** A first build pulls its base image (golang:1.24 is over 500 MB) from the mirror. */
const TIMEOUT_MS = 300_000;
/** Examples checked side by side: the host may be running other sandboxes. */
const PARALLEL = 2;

const driver = new DockerDriver(dockerClient('/var/run/docker.sock'));

/** Runs one example; resolves to what went wrong, or undefined when it worked. */
async function check(ex: Example): Promise<string | undefined> {
  if (!ex.run) return undefined;
  const id = `x${randomBytes(5).toString('hex')}`;
  await driver.create({ id, limits: LIMITS, labels: { 'org.dockyard.test': `example-${ex.id}` } });
  try {
    const exec = (cmd: string) =>
      driver.exec(id, ['bash', '-c', `cd ${WORK_DIR} && ${cmd}`], { timeoutMs: TIMEOUT_MS });
    const files = new SandboxFiles((cmd, o) => driver.exec(id, cmd, o), { root: WORK_DIR, maxBytes: 1 << 20 });
    for (const [path, content] of [...Object.entries(ex.files ?? {}), [ex.file, ex.content] as const])
      await files.write(path, content);
    const r = await exec(ex.run);
    if (r.exitCode !== 0) return `${ex.run}: exit ${r.exitCode}\n${r.stderr || r.stdout}`;
    if (!ex.run.endsWith(' up -d')) return undefined;
    await new Promise((res) => setTimeout(res, 3000));
    const ps = await exec(ex.run.replace(/ up -d$/, " ps -a --format '{{.Service}}: {{.State}}'"));
    const down = ps.stdout.split('\n').filter((l) => l && !l.endsWith(': running'));
    return down.length ? `not running after ${ex.run}: ${down.join(', ')}` : undefined;
  } finally {
    await driver.remove(id);
  }
}

const bodies = lessons.map((l) => ({
  slug: l.slug,
  title: l.title,
  body: readFileSync(`${LESSONS_DIR}/${l.slug}.mdx`, 'utf8'),
}));
const wanted = process.argv.slice(2);
const queue = collectExamples(bodies, loadExercises()).filter((e) => !wanted.length || wanted.includes(e.id));
let failed = 0;
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let ex = queue.shift(); ex; ex = queue.shift()) {
      const started = Date.now();
      const problem = await check(ex).catch((err: unknown) => `error: ${String(err)}`);
      const took = `${Math.round((Date.now() - started) / 1000)} s`;
      if (problem) failed++;
      console.log(
        problem ? `FAIL ${ex.id} (${took}): ${problem}` : `ok   ${ex.id} (${took}): ${ex.run ?? 'nothing to run'}`,
      );
    }
  }),
);
process.exitCode = failed ? 1 : 0;
