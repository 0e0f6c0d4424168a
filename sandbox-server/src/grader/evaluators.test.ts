// Every check kind against what a real sandbox's engine answered (fixtures/recorded.json, made by
// fixtures/record.ts from the state in fixtures/cases.ts): a passing and a failing case of each,
// with what the failure says, and how the grader reports faults, timeouts, points and hints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_KINDS, type Check, type Exercise } from '@dockyard/content';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExecResult, SandboxDriver } from '../drivers/driver.ts';
import { gradeReportSchema } from '../protocol/messages.ts';
import { RECORDED_CHECKS } from './fixtures/cases.ts';
import { apiKey, replayProbe, shKey, type ApiOptions, type Recording } from './fixtures/recording.ts';
import { grade, type CheckResult, type GradeReport } from './grader.ts';
import { PlatformFault, sandboxProbe, type Probe } from './probe.ts';

const recording = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/recorded.json'), 'utf8')) as Recording;

const exercise = (checks: Check[]): Exercise => ({
  id: 'replayed',
  lesson: 'the-problem',
  title: 'Replayed checks',
  starter: { files: {} },
  solution: 'true',
  checks,
});

const recorded = (id: string, extra: Record<string, unknown> = {}): Check => {
  const c = RECORDED_CHECKS.find((x) => x.id === id);
  if (!c) throw new Error(`no recorded check ${id}`);
  return { ...c, ...extra } as Check;
};

/** A Probe around `inner` that runs `around` on every call first (to delay it or to fail it). */
function wrapped(inner: Probe, around: (key: string) => Promise<void> | void): Probe {
  return {
    async api<T>(path: string, opts?: ApiOptions) {
      await around(apiKey(path, opts));
      return inner.api<T>(path, opts);
    },
    async sh(script: string, timeoutMs?: number) {
      await around(shKey(script));
      return inner.sh(script, timeoutMs);
    },
  };
}

const PLATFORM_MESSAGE = /problem on our side, not yours/;

describe('every check kind, replayed from a real engine', () => {
  let report: GradeReport;
  const used = new Set<string>();
  const result = (id: string): CheckResult => {
    const r = report.checks.find((c) => c.id === id);
    if (!r) throw new Error(`check ${id} is not in the report`);
    return r;
  };
  const passes = (id: string, ...says: string[]) => {
    const r = result(id);
    expect(r, r.message).toMatchObject({ status: 'passed', earned: r.points });
    for (const s of says) expect(r.message).toContain(s);
  };
  const fails = (id: string, ...says: string[]) => {
    const r = result(id);
    expect(r, r.message).toMatchObject({ status: 'failed', earned: 0 });
    for (const s of says) expect(r.message).toContain(s);
  };

  beforeAll(async () => {
    report = await grade(exercise(RECORDED_CHECKS), replayProbe(recording.calls, used));
  });

  it('grades every recorded check from the recording alone, none of them in error', () => {
    expect(report.checks).toHaveLength(RECORDED_CHECKS.length);
    expect(report.checks.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(report.incomplete).toBe(false);
    expect(report.passed).toBe(false);
    expect(() => gradeReportSchema.parse(report)).not.toThrow();
    expect(used.size).toBeGreaterThan(50);
  });

  it('has a passing and a failing case of every kind, and each case ends as its id says', () => {
    for (const kind of CHECK_KINDS) {
      const of = report.checks.filter((c) => RECORDED_CHECKS.find((x) => x.id === c.id)!.kind === kind);
      expect(
        of.some((c) => c.status === 'passed'),
        `${kind} passes`,
      ).toBe(true);
      expect(
        of.some((c) => c.status === 'failed'),
        `${kind} fails`,
      ).toBe(true);
    }
    for (const c of report.checks) {
      if (c.id.endsWith('-pass')) expect(c.status, `${c.id}: ${c.message}`).toBe('passed');
      if (c.id.endsWith('-fail')) expect(c.status, `${c.id}: ${c.message}`).toBe('failed');
    }
  });

  describe('container', () => {
    it('passes on state, image, ports, networks and restarts', () => {
      passes('container-web-pass', 'web is running, as expected.');
      passes('container-restarted-pass', 'bouncer is running');
      passes('container-exited-pass', 'stopped is exited (code 3)');
      passes('container-created-pass', 'fresh is created');
      passes('container-healthy-pass', 'healthy-app is running (healthy)');
      passes('container-network-pass');
    });

    it('passes on limits, env, labels, logging, user and mounts (bind, volume, tmpfs)', () => {
      passes('container-limits-pass');
      passes('container-config-pass');
      passes('container-volume-pass');
      passes('container-tmpfs-flag', 'labelled is running');
    });

    it('passes when any container of the image meets the check', () => {
      passes('container-image-exited-pass', 'hello from hello-world is exited (code 0)');
      passes('container-image-ports-pass', 'registry from registry:2 is running');
      passes('container-image-any-pass', 'work-web-1 from nginx');
    });

    it('fails naming each unmet expectation: what it found, what it should be', () => {
      fails('container-missing-fail', 'There is no container named ghost.');
      fails(
        'container-web-fail',
        'is running; it should have exited',
        'web runs image nginx; it should run busybox',
        'web should publish 8080->443/tcp; it publishes 8080->80/tcp',
        'web is on bridge; it should be on app-net',
        'web runs as root; it should run as another user',
      );
      fails('container-exit-code-fail', 'is exited (code 3); it should have exited with code 0');
      fails('container-created-fail', 'is running; it should be created, not started');
      fails('container-stopped-running-fail', 'is exited (code 3); it should be running');
      fails('container-restarted-fail', 'was restarted 0 times; it should be at least 1');
    });

    it('tells an unhealthy container from one without a health check', () => {
      fails('container-unhealthy-fail', 'is running (unhealthy); it should be healthy');
      fails('container-no-healthcheck-fail', 'has no health check, so it cannot become healthy');
    });

    it('fails on limits, env, labels, logging, user and mounts with the values found', () => {
      fails(
        'container-limits-fail',
        "memory limit is none; it should be 128 MiB; web's CPU limit is none; it should be 0.5; web's process limit is none; it should be 50",
      );
      fails(
        'container-limits-wrong-fail',
        'memory limit is 128 MiB; it should be 256 MiB',
        "limited's CPU limit is 0.5; it should be 1",
        "limited's process limit is 50; it should be 100",
      );
      fails(
        'container-config-fail',
        'APP_MODE is "production"; it should be "development"',
        `labelled's DEBUG is nothing; it should be "1"`,
        '/srv in labelled mounts /root/work/site; it should mount public',
        'labelled runs as "1000:1000"; it should run as text matching /^root/',
        `labelled's label tier is "frontend"; it should be "backend"`,
        'labelled logs with json-file; it should log with local',
        `labelled's log option max-size is "1m"; it should be "10m"`,
      );
      fails(
        'container-volume-fail',
        '/data in keeper mounts data; it should mount volume backup',
        'keeper has nothing mounted at /logs',
      );
      fails('container-mount-type-fail', '/data in keeper is a volume mount; it should be a bind mount');
      fails('container-network-fail', 'is on bridge; it should be on app-net');
    });

    it('fails by image with the first candidate’s problems, or when no container has the image', () => {
      fails('container-image-state-fail', 'is running; it should have exited');
      fails('container-image-none-fail', 'There is no container from image postgres.');
    });

    it('does not take a container whose id starts with the name for the named container', () => {
      // The engine answers /containers/c1/json with old-box, whose id starts with c1.
      const reply = recording.calls['api GET /containers/c1/json'] as { status: number; body: { Id: string } };
      expect(reply.status).toBe(200);
      expect(reply.body.Id).toBe(recording.meta.c1Id);
      expect(recording.meta.c1Id).toMatch(/^c1/);
      fails('container-id-prefix-fail', 'There is no container named c1.');
    });

    // The engine's event log holds only its last 256 events (health checks alone add 3 a second
    // each). web was restarted at the start of the recorded state; by grading time its start
    // events had rolled out of the log. Its FinishedAt still says it stopped once.
    it('(the recorded engine had forgotten web’s restart: its event log was full)', () => {
      expect(Number(recording.meta.eventsKept)).toBeLessThanOrEqual(256);
      const web = recording.calls['api GET /containers/web/json'] as { body: { Id: string } };
      const events = Object.entries(recording.calls).find(
        ([k]) => k.startsWith('api GET /events') && k.includes(web.body.Id),
      );
      expect(events?.[1]).toEqual({ status: 200, body: '' });
    });
    it('counts a restart even after the engine’s event log rolled over', () => {
      passes('container-restarted-forgotten');
    });
  });

  describe('image', () => {
    it('passes on exposed ports, same id, labels, user, healthcheck, layers, size and paths', () => {
      passes('image-exposes-pass', 'Image nginx:latest is as expected (');
      expect(result('image-exposes-pass').message).toMatch(/\(\d+(\.\d)? MB\)\.$/);
      passes('image-same-pass');
      passes('image-registry-ref-pass');
      passes('image-config-pass', 'Image small-app:1.0 is as expected (');
      passes('image-gone-pass', 'Image old-app:0.9 is gone.');
    });

    it('fails with what the image is against what it should be', () => {
      fails('image-missing-fail', 'There is no image hello-go.');
      fails('image-gone-fail', 'Image nginx still exists; it should be gone.');
      // Both ids as the engine gave them, shortened.
      const id = (ref: string) => (recording.calls[`api GET /images/${ref}/json`] as { body: { Id: string } }).body.Id;
      fails(
        'image-same-fail',
        `:1.0 and busybox are different images (${id('my-nginx%3A1.0').slice(7, 19)} vs ${id('busybox').slice(7, 19)})`,
      );
      fails('image-same-missing-fail', 'no image my-nginx:2.0 to compare with');
      fails('image-root-fail', 'runs as root; set a USER that is not root; it has no HEALTHCHECK');
      fails(
        'image-config-fail',
        'MB; it should be under 1 MB',
        'its label tier is "backend"; it should be "frontend"',
        'its USER is "1000"; it should be "root"',
        'it does not EXPOSE 80',
        'it has a HEALTHCHECK; it should not',
        'it has 2 layers; it should have at most 1',
      );
      expect(result('image-config-fail').message).not.toContain('EXPOSE 8000');
    });

    it('looks into the filesystem through a helper container only when all else holds', () => {
      fails('image-paths-fail', '/app/missing.txt is missing from it; /bin/sh is still in it; it should not be.');
      expect(result('image-paths-fail').message).not.toContain('/app/hello.txt');
      expect(used).toContain('api DELETE /containers/grader-helper-of-small-app:1.0?force=1');
    });
  });

  describe('network', () => {
    it('passes with its driver and attached containers', () => {
      passes('network-pass', 'Network app-net is as expected.');
      passes('network-default-bridge-pass');
    });

    it('fails with the driver found and the containers attached', () => {
      fails(
        'network-fail',
        'uses the bridge driver; it should use overlay',
        'web and loner are not attached to app-net',
      );
      // In the engine's order (by container id), so either way round.
      expect(result('network-fail').message).toMatch(/\(attached: (api, db|db, api)\)\.$/);
      fails('network-missing-fail', 'There is no network named backend.');
    });
  });

  describe('reach', () => {
    it('passes when the name resolves and the port answers', () => {
      passes('reach-pass', 'api resolves db and reaches it on port 6379.');
    });

    it('tells a name that does not resolve from a port that does not answer', () => {
      fails('reach-port-fail', 'api resolves db, but nothing answers on port 80.');
      fails('reach-resolve-fail', 'loner cannot resolve the name db: are both on the same user-defined network?');
      fails('reach-stopped-fail', 'stopped is exited (code 3); it must be running to reach db.');
      fails('reach-missing-fail', 'There is no container named ghost.');
      passes('reach-blocked-pass', 'loner cannot even resolve db: they are kept apart.');
      fails('reach-blocked-fail', 'api reaches db on port 6379; the two should be kept apart.');
    });
  });

  describe('volume', () => {
    it('passes with who mounts it and what it holds', () => {
      passes('volume-pass', 'Volume data is as expected.');
    });

    it('fails naming what is missing', () => {
      fails('volume-paths-fail', 'Volume data has no missing.txt.');
      fails('volume-mount-fail', 'web does not mount volume data.');
      fails('volume-mounter-missing-fail', 'There is no container named ghost.');
      fails('volume-missing-fail', 'There is no volume named cache-data.');
    });
  });

  describe('http', () => {
    it('passes on status and body, exact or by pattern', () => {
      passes('http-welcome-pass', 'http://localhost:8080/ answered 200, as expected.');
      passes('http-exact-pass');
      passes('http-404-pass', 'answered 404, as expected');
    });

    it('fails with the status or body that came back', () => {
      fails('http-status-fail', 'http://localhost:8080/missing answered 404; it should answer 200.');
      fails('http-body-fail', 'its body is "hello from exec"; it should be "goodbye"');
      fails('http-closed-fail', 'Nothing answers on port 9999');
    });
  });

  describe('file', () => {
    it('passes in ~/work, by absolute path, and inside running and stopped containers', () => {
      passes('file-contains-pass', 'notes.txt is as expected.');
      passes('file-matches-pass');
      passes('file-gone-pass', 'todo.txt is gone.');
      passes('file-absolute-pass');
      passes('file-in-container-pass', '/usr/share/nginx/html/note.txt in web is as expected.');
      passes('file-in-stopped-pass', '/tmp/last-words in stopped');
      passes('file-in-container-gone-pass', '/etc/secret in web is gone.');
    });

    it('fails with what the file lacks, or that it is (not) there', () => {
      fails('file-contains-fail', 'notes.txt does not contain "eggs".');
      fails('file-matches-fail', 'notes.txt does not match /^buy /.');
      fails('file-missing-fail', 'There is no file todo.txt.');
      fails('file-gone-fail', 'notes.txt still exists; it should not.');
      fails('file-in-container-fail', 'There is no file /etc/secret in web.');
      fails('file-in-missing-fail', 'There is no container named ghost.');
    });
  });

  describe('dockerfile', () => {
    it('passes on stages, bases, order, USER, HEALTHCHECK and lint', () => {
      passes('dockerfile-pass', 'Dockerfile is as expected.');
    });

    it('passes on a USER and HEALTHCHECK the final stage inherits from the stage it is built on', () => {
      passes('dockerfile-inherited-pass', 'Dockerfile.inherit is as expected.');
    });

    it('fails with every problem and lint finding, by line', () => {
      fails(
        'dockerfile-fail',
        'In Dockerfile.bad: it has 1 stage; it needs at least 2',
        'its stages start from debian; they should start from debian, scratch',
        'the final stage runs as root: add a USER that is not root',
        'the final stage has no HEALTHCHECK',
        'FROM debian has no pinned tag',
        'line 2: apt-get install without rm -rf /var/lib/apt/lists/*',
        'line 3: use COPY to copy local files, not ADD',
        'line 4: CMD in shell form',
      );
      fails('dockerfile-order-fail', '"WORKDIR /src" should come after line 4, but it does not');
      fails('dockerfile-max-fail', 'it has 2 stages; it should have at most 1; the final stage has a HEALTHCHECK');
      fails('dockerfile-missing-fail', 'There is no Containerfile in ~/work.');
    });
  });

  describe('compose', () => {
    it('passes on a valid file, services running, replicas, healthy and no secret in it', () => {
      passes('compose-pass', 'Project work is as expected.');
    });

    it('fails with each service’s state and count', () => {
      fails(
        'compose-fail',
        'web is running; it should be healthy',
        'service cache has 2 running containers; it should have 3',
        'service db of project work has no container: run docker compose up',
      );
      fails('compose-project-fail', 'web of project shop has no container: run docker compose up');
      // A sentence starts with its subject, capitalised.
      expect(result('compose-fail').message).toMatch(/^In project work: service web is running;/);
    });

    it('fails on a secret left in the file, an invalid file and a missing one', () => {
      fails('compose-secret-fail', 'still contains "s3cret-pa55"; keep it in .env');
      fails('compose-invalid-fail', 'Compose rejects broken.yaml:', 'Additional property service is not allowed');
      fails('compose-missing-fail', 'There is no shop/compose.yaml in ~/work.');
      passes('compose-depends-pass', 'Project work is as expected.');
      fails(
        'compose-depends-fail',
        'worker waits for cache with condition service_started; it should be service_healthy',
        'worker does not depend on web; it should, with condition service_started',
      );
    });
  });

  describe('registry', () => {
    it('passes with the repository and tag in the catalog, nested names included', () => {
      passes('registry-pass', 'localhost:5000 has my-nginx:1.0.');
      passes('registry-nested-pass', 'localhost:5000 has tools/busybox:1.35.');
    });

    it('fails with the repositories and tags it has', () => {
      fails('registry-tag-fail', 'my-nginx in localhost:5000 has tags 1.0; it should have 2.0.');
      fails('registry-repo-fail', 'The registry at localhost:5000 has my-nginx, tools/busybox; it should have my-app.');
      fails('registry-down-fail', 'No registry answers at localhost:5001');
      fails('registry-not-registry-fail', 'localhost:8080 does not answer like a registry.');
    });
  });

  describe('command', () => {
    it('passes on exit code and output', () => {
      passes('command-pass', '`cat notes.txt` gave what was expected.');
      passes('command-matches-pass');
      passes('command-exit-pass');
    });

    it('fails with the exit code or output it got', () => {
      fails('command-exit-fail', '`test -f todo.txt` exited with 1; it should exit with 0.');
      fails('command-output-fail', 'printed "remember the milk"; it should print "forget the milk".');
    });
  });
});

describe('the grader over a replayed sandbox', () => {
  const replay = () => replayProbe(recording.calls);

  it('fails loudly, naming the call, when a check makes a call the recording does not have', async () => {
    const unknown = recorded('container-missing-fail', { name: 'never-recorded' });
    await expect(grade(exercise([unknown]), replay())).rejects.toThrow(
      'no recorded reply for: api GET /containers/never-recorded/json',
    );
  });

  it('reports a PlatformFault as an error to retry, never as a failed check', async () => {
    const faulty = wrapped(replay(), (key) => {
      if (key.startsWith('api GET /containers/web/json')) throw new PlatformFault('the engine did not answer');
      if (key.startsWith('sh /usr/bin/curl')) throw new PlatformFault('exec failed');
    });
    const checks = [
      recorded('container-web-pass', { hint: 'Start it with docker run.' }),
      recorded('http-welcome-pass'),
      recorded('registry-pass'),
      recorded('file-contains-pass'),
    ];
    const r = await grade(exercise(checks), faulty);
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['container-web-pass', 'error'],
      ['http-welcome-pass', 'error'],
      ['registry-pass', 'error'],
      ['file-contains-pass', 'passed'],
    ]);
    for (const c of r.checks.filter((x) => x.status === 'error')) {
      expect(c.message).toMatch(PLATFORM_MESSAGE);
      expect(c.earned).toBe(0);
      expect(c.hint).toBeUndefined();
    }
    expect(r).toMatchObject({ incomplete: true, passed: false, score: 1, maxScore: 4 });
  });

  it('turns what the real probe cannot get (exec failure, engine 5xx) into an error', async () => {
    let reply: () => Promise<ExecResult> = async () => ({ exitCode: 0, stdout: '{"message":"boom"}\n500', stderr: '' });
    const driver = { exec: () => reply() } as unknown as SandboxDriver;
    const probe = sandboxProbe(driver, 'sbx');
    await expect(probe.api('/containers/web/json')).rejects.toBeInstanceOf(PlatformFault);
    const r1 = await grade(exercise([recorded('network-pass')]), probe);
    expect(r1.checks[0]).toMatchObject({ status: 'error', earned: 0 });
    expect(r1.incomplete).toBe(true);
    reply = () => Promise.reject(new Error('container not running'));
    const r2 = await grade(exercise([recorded('command-pass')]), probe);
    expect(r2.checks[0]).toMatchObject({ status: 'error' });
    expect(r2.checks[0]!.message).toMatch(PLATFORM_MESSAGE);
  });

  it('lets a real failure through when the engine answers 404', async () => {
    const driver = {
      exec: async () => ({ exitCode: 0, stdout: '{"message":"No such container: web"}\n404', stderr: '' }),
    } as unknown as SandboxDriver;
    const r = await grade(exercise([recorded('container-web-pass')]), sandboxProbe(driver, 'sbx'));
    expect(r.checks[0]).toMatchObject({ status: 'failed', message: 'There is no container named web.' });
    expect(r.incomplete).toBe(false);
  });

  it('makes a check slower than its budget an error, and leaves the others alone', async () => {
    const slow = wrapped(replay(), async (key) => {
      if (key.includes('localhost:8080')) await new Promise((res) => setTimeout(res, 300));
    });
    const checks = [recorded('http-welcome-pass', { hint: 'Publish port 8080.' }), recorded('network-pass')];
    const r = await grade(exercise(checks), slow, { checkTimeoutMs: 50, exerciseTimeoutMs: 5000 });
    expect(r.checks[0]).toMatchObject({ id: 'http-welcome-pass', status: 'error', earned: 0 });
    expect(r.checks[0]!.message).toMatch(PLATFORM_MESSAGE);
    expect(r.checks[0]!.hint).toBeUndefined();
    expect(r.checks[0]!.ms).toBeGreaterThanOrEqual(40);
    expect(r.checks[1]).toMatchObject({ id: 'network-pass', status: 'passed' });
    expect(r).toMatchObject({ incomplete: true, passed: false, score: 1, maxScore: 2 });
  });

  it('holds every check to what is left of the exercise’s budget', async () => {
    const slow = wrapped(replay(), () => new Promise((res) => setTimeout(res, 200)));
    const r = await grade(exercise([recorded('network-pass'), recorded('volume-pass')]), slow, {
      checkTimeoutMs: 10_000,
      exerciseTimeoutMs: 50,
    });
    expect(r.checks.map((c) => c.status)).toEqual(['error', 'error']);
    expect(r.ms).toBeLessThan(1000);
  });

  it('adds up points for partial credit', async () => {
    const checks = [
      recorded('container-web-pass', { points: 3 }),
      recorded('network-fail', { points: 2 }),
      recorded('image-same-pass', { points: 5 }),
      recorded('reach-port-fail', { points: 1 }),
      recorded('command-pass', { points: 0 }),
    ];
    const r = await grade(exercise(checks), replay());
    expect(r.checks.map((c) => [c.id, c.status, c.earned, c.points])).toEqual([
      ['container-web-pass', 'passed', 3, 3],
      ['network-fail', 'failed', 0, 2],
      ['image-same-pass', 'passed', 5, 5],
      ['reach-port-fail', 'failed', 0, 1],
      ['command-pass', 'passed', 0, 0],
    ]);
    expect(r).toMatchObject({ exercise: 'replayed', score: 8, maxScore: 11, passed: false, incomplete: false });
    const all = await grade(exercise(checks.filter((c) => c.id.endsWith('-pass'))), replay());
    expect(all).toMatchObject({ score: 8, maxScore: 8, passed: true });
  });

  it('shows the hint on failed checks only', async () => {
    const hint = 'Try docker ps -a.';
    const r = await grade(
      exercise([recorded('container-web-pass', { hint }), recorded('container-missing-fail', { hint })]),
      replay(),
    );
    expect(r.checks[0]).toMatchObject({ status: 'passed' });
    expect(r.checks[0]).not.toHaveProperty('hint');
    expect(r.checks[1]).toMatchObject({ status: 'failed', hint });
    const none = await grade(exercise([recorded('container-missing-fail')]), replay());
    expect(none.checks[0]).not.toHaveProperty('hint');
  });
});
