// Runs commands in a fresh sandbox and prints what each printed, as a lesson author checks what a
// learner will see. Each argument is one bash command, run in ~/work in order; the sandbox is
// removed at the end unless KEEP=1 (then its id is printed; remove it with `docker rm -f dockyard-sbx-<id>`).
//   node content/scripts/try.ts 'docker run --rm hello-world' 'docker ps -a'
import { randomBytes } from 'node:crypto';
import { DockerDriver } from '../../sandbox-server/src/drivers/docker/docker-driver.ts';
import { dockerClient } from '../../sandbox-server/src/engine/engine.ts';

const GiB = 2 ** 30;
const driver = new DockerDriver(dockerClient('/var/run/docker.sock'));
const id = `try${randomBytes(4).toString('hex')}`;
const started = performance.now();
try {
  await driver.create({ id, limits: { memoryBytes: 2 * GiB, cpus: 1, pids: 1024, storageBytes: 4 * GiB } });
  console.log(`# sandbox ${id} ready in ${Math.round(performance.now() - started)} ms`);
  for (const cmd of process.argv.slice(2)) {
    const r = await driver.exec(id, ['bash', '-lc', `cd /root/work && ${cmd}`], { timeoutMs: 600_000 });
    console.log(`$ ${cmd}\n${r.stdout}${r.stderr}# exit ${r.exitCode}`);
  }
} finally {
  if (process.env.KEEP) console.log(`# kept sandbox ${id}`);
  else await driver.remove(id);
}
