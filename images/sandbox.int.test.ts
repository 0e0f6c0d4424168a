// The sandbox image gives learners the Docker of today: Engine 26, BuildKit, buildx, Compose v2,
// and a view of its own limits in free, top and /proc.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../sandbox-server/src/drivers/docker/docker-driver.ts';
import { testSandboxId } from '../sandbox-server/src/drivers/conformance.ts';
import { dockerClient } from '../sandbox-server/src/engine/engine.ts';

const driver = new DockerDriver(dockerClient('/var/run/docker.sock'));
const id = testSandboxId();
const GiB = 2 ** 30;
const LIMITS = { memoryBytes: 2 * GiB, cpus: 1, pids: 1024, storageBytes: 4 * GiB };

/** Runs a bash script in ~/work; fails the test with its output unless it exits 0. */
async function sh(script: string, timeoutMs = 110_000): Promise<string> {
  const r = await driver.exec(id, ['bash', '-c', `set -euo pipefail\ncd /root/work\n${script}`], { timeoutMs });
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => driver.create({ id, limits: LIMITS }));
afterAll(() => driver.remove(id));

describe('Docker in the sandbox', () => {
  it('is Engine 26 with its CLI, and buildx with the default builder', async () => {
    const out = await sh(`docker version --format '{{.Client.Version}} {{.Server.Version}}'; docker buildx ls`);
    expect(out).toMatch(/^26\.\d+\.\d+\S* 26\.\d+\.\d+/);
    expect(out).toMatch(/^default\*?\s+docker\s*$/m);
    expect(out).toMatch(/\\_ default\s+\\_ default\s+running/);
  });

  it('builds with BuildKit: a cache mount, a heredoc, a secret and COPY --chmod', async () => {
    const out = await sh(`
      mkdir -p bk && cd bk
      echo s3cret >token.txt && echo hi >app.sh
      cat >Dockerfile <<'DF'
FROM busybox
RUN --mount=type=cache,target=/cache echo run >>/cache/runs && wc -l </cache/runs >/runs
RUN <<EOF
echo one >/heredoc.txt
echo two >>/heredoc.txt
EOF
COPY --chmod=755 app.sh /app.sh
RUN --mount=type=secret,id=token tr a-z A-Z </run/secrets/token >/secret.txt
DF
      docker build --progress=plain --secret id=token,src=token.txt -t bk-test . 2>build.log
      # BuildKit's output, not the legacy builder's "Step 1/6".
      grep -cE '^#[0-9]+ \\[.*[0-9]/5\\] ' build.log
      docker run --rm bk-test sh -c 'cat /heredoc.txt /secret.txt; stat -c %a /app.sh'
      # The secret itself is in no layer (only what the step made from it).
      docker image save bk-test | grep -c s3cret || true
      # The cache mount outlives the build: a changed step after it still finds the first run there.
      sed -i 's#/runs$#/runs \\&\\& true#' Dockerfile
      docker build -q --secret id=token,src=token.txt -t bk-test . >/dev/null
      docker run --rm bk-test cat /runs
    `);
    const lines = out.trim().split('\n');
    expect(Number(lines[0])).toBeGreaterThanOrEqual(5);
    expect(lines.slice(1, 5)).toEqual(['one', 'two', 'S3CRET', '755']);
    expect(lines[5]).toBe('0');
    expect(lines[6]).toBe('2');
  });

  it('runs Compose v2 as `docker compose` and `docker-compose`, naming containers <project>-<service>-1', async () => {
    const out = await sh(`
      mkdir -p shop && cd shop
      cat >compose.yaml <<'YAML'
services:
  web:
    image: nginx
    ports: ["8080:80"]
  cache:
    image: redis
YAML
      docker compose up -d --wait >/dev/null 2>&1
      docker ps --format '{{.Names}}' | sort
      docker-compose version --short
      docker compose ps --format '{{.Service}}' | sort | paste -sd ' '
      docker compose down >/dev/null 2>&1
      docker ps -q | wc -l
    `);
    const lines = out.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['shop-cache-1', 'shop-web-1']);
    expect(lines[2]).toMatch(/^2\.\d+/);
    expect(lines[3]!.trim()).toBe('cache web');
    expect(lines[4]).toBe('0');
  });

  it('completes docker, docker compose, docker-compose and docker buildx in bash', async () => {
    // What Tab offers after each partial command line, as bash-completion computes it.
    const offers = async (line: string) => {
      const words = line.split(' ');
      // bash-completion is written for interactive shells: not under `set -eu`.
      const out = await sh(`set +euo pipefail; source /usr/share/bash-completion/bash_completion
        _completion_loader ${words[0]}
        COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
        COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}; COMPREPLY=()
        $(complete -p ${words[0]} | sed -E 's/.*-F ([^ ]+).*/\\1/') ${words[0]} '${words.at(-1)}' '${words.at(-2)}'
        printf '%s\\n' "\${COMPREPLY[@]}"`);
      return out.split('\n').map((w) => w.trim());
    };
    expect(await offers('docker ver')).toContain('version');
    expect(await offers('docker compose u')).toContain('up');
    expect(await offers('docker-compose u')).toContain('up');
    expect(await offers('docker buildx l')).toContain('ls');
  });

  it('shows its own memory and CPUs in free, nproc and /proc, not the host ones', async () => {
    const out = await sh(
      `free -b | awk '/^Mem:/ {print $2}'; nproc; grep -c ^processor /proc/cpuinfo; awk '/MemTotal/ {print $2}' /proc/meminfo`,
    );
    const [free, nproc, cpuinfo, meminfo] = out.trim().split('\n').map(Number);
    expect(free).toBe(LIMITS.memoryBytes);
    expect(meminfo).toBe(LIMITS.memoryBytes / 1024);
    expect(nproc).toBe(LIMITS.cpus);
    expect(cpuinfo).toBe(LIMITS.cpus);
  });
});
