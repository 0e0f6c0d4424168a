// Grading through the real server and a real sandbox: REST and WebSocket, live mode turning green
// as the learner works, a fake `docker` in the learner's PATH fooling nothing, and platform faults
// reported as errors, not failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../protocol/messages.ts';
import {
  learnerWithTerminal,
  startTestServer,
  TestClient,
  type TestServer,
  type TestSocket,
} from '../test-support/harness.ts';
import type { GradeReport } from './grader.ts';

let server: TestServer;
let learner: TestClient;
let socket: TestSocket;
let sessionId = '';

const grade = async (exercise: string) => {
  const r = await learner.req<{ report: GradeReport }>('POST', `/api/sessions/${sessionId}/grade`, { exercise });
  expect(r.status).toBe(200);
  return r.body.report;
};
const statuses = (r: GradeReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
type GradeMessage = Extract<ServerMessage, { type: 'grade' }>;

beforeAll(async () => {
  server = await startTestServer();
  ({ client: learner, sessionId, socket } = await learnerWithTerminal(server));
});
afterAll(async () => {
  await socket?.close();
  await server?.stop();
});

describe('grading', () => {
  it('lists exercises without their solutions', async () => {
    const r = await learner.req<{ exercises: Array<Record<string, unknown>> }>('GET', '/api/exercises');
    expect(r.body.exercises.map((e) => e.id)).toContain('restarted-web');
    expect(JSON.stringify(r.body)).not.toContain('docker restart web');
    const missing = await learner.req<{ error: { code: string } }>('POST', `/api/sessions/${sessionId}/grade`, {
      exercise: 'no-such-exercise',
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('EXERCISE_NOT_FOUND');
  });

  it("puts an exercise's starter files in ~/work, keeping the learner's own", async () => {
    await learner.req('PUT', `/api/sessions/${sessionId}/file?path=server.js`, { content: '// mine\n' });
    const r = await learner.req<{ written: string[]; kept: string[] }>(
      'POST',
      `/api/sessions/${sessionId}/exercises/hello-app/start`,
      {},
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ written: ['Dockerfile'], kept: ['server.js'] });
    const mine = await learner.req<{ content: string }>('GET', `/api/sessions/${sessionId}/file?path=server.js`);
    expect(mine.body.content).toBe('// mine\n');
    const again = await learner.req<{ written: string[] }>(
      'POST',
      `/api/sessions/${sessionId}/exercises/hello-app/start`,
      { overwrite: true },
    );
    expect(again.body.written.sort()).toEqual(['Dockerfile', 'server.js']);
    // A starter file left untouched is no one's work: starting again (or another exercise with
    // that path) replaces it, where the learner's own edit above was kept.
    const other = await learner.req<{ written: string[]; kept: string[] }>(
      'POST',
      `/api/sessions/${sessionId}/exercises/hello-app/start`,
      {},
    );
    expect(other.body.written.sort()).toEqual(['Dockerfile', 'server.js']);
    expect(other.body.kept).toEqual([]);
  });

  it('fails every check of a fresh sandbox, with what was found and a hint', async () => {
    const r = await grade('restarted-web');
    expect(statuses(r)).toEqual({ 'web-running': 'failed', 'web-restarted': 'failed' });
    expect(r.score).toBe(0);
    expect(r.checks[0]!.message).toBe('There is no container named web.');
    expect(r.checks[0]!.hint).toContain('docker run -d --name web nginx');
  });

  it('gives partial credit, then turns green live as the learner finishes', async () => {
    // The container's id on a line of its own (the pull before it prints a 64-hex digest too).
    await socket.run('t1', 'docker run -d --name web nginx', /\n[0-9a-f]{64}\r?\n/, 60_000);
    const partial = await grade('restarted-web');
    expect(statuses(partial)).toEqual({ 'web-running': 'passed', 'web-restarted': 'failed' });
    expect(partial.checks[1]!.message).toMatch(/restarted 0 times; it should be at least 1/);
    expect(partial.score).toBe(1);

    type Progress = { progress: { exercise: string; attempts: number; bestScore: number; updatedAt: number }[] };
    const progressOf = async () =>
      (await learner.req<Progress>('GET', '/api/progress')).body.progress.find((p) => p.exercise === 'restarted-web');
    const asked = (await progressOf())!;
    expect(asked.bestScore).toBe(1);

    socket.send({ type: 'live', exercise: 'restarted-web' });
    const first = (await socket.waitFor((m) => m.type === 'grade' && m.live)) as GradeMessage;
    expect(first.report.passed).toBe(false);
    // Live partial progress is kept (the instructor's dashboard sees the learner moving), uncounted.
    const kept = await (async () => {
      for (let i = 0; i < 50; i++) {
        const p = (await progressOf())!;
        if (p.updatedAt > asked.updatedAt) return p;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    })();
    expect(kept).toMatchObject({ attempts: asked.attempts, bestScore: 1 });
    const before = socket.messages.length;
    socket.send({ type: 'input', term: 't1', data: 'docker restart web\r' });
    const green = (await socket.until(
      () => socket.messages.slice(before).find((m) => m.type === 'grade' && m.live && m.report.passed),
      20_000,
      'a live report that passes',
    )) as GradeMessage;
    expect(green.report.score).toBe(green.report.maxScore);
    socket.send({ type: 'live', exercise: null });
  });

  it('re-grades live when the editor saves a file', async () => {
    socket.send({ type: 'live', exercise: 'engine-facts' });
    await socket.waitFor((m) => m.type === 'grade' && m.live && m.report.exercise === 'engine-facts');
    // Half the answer from the terminal (no re-grade: nothing the engine or the editor reports)...
    await socket.run(
      't1',
      "docker version --format '{{.Server.Version}}' > server-version.txt && echo written-$((6*7))",
      /written-42/,
    );
    // ...the other half saved from the editor, which re-grades.
    const before = socket.messages.length;
    const saved = await learner.req('PUT', `/api/sessions/${sessionId}/file?path=storage-driver.txt`, {
      content: 'overlay2\n',
    });
    expect(saved.status).toBe(200);
    await socket.until(
      () =>
        socket.messages
          .slice(before)
          .find((m) => m.type === 'grade' && m.live && m.report.exercise === 'engine-facts' && m.report.passed),
      15_000,
      'engine-facts passing after the save',
    );
    socket.send({ type: 'live', exercise: null });
  });

  it('answers a grade message on the WebSocket', async () => {
    const before = socket.messages.length;
    socket.send({ type: 'grade', exercise: 'publish-web2' });
    const m = (await socket.until(
      () => socket.messages.slice(before).find((x) => x.type === 'grade' && !x.live),
      15_000,
      'a grade answer',
    )) as GradeMessage;
    expect(m.report.exercise).toBe('publish-web2');
    expect(m.report.passed).toBe(false);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/dockyard_grade_seconds_count\{outcome="failed"\} [1-9]/);
  });

  it('is not fooled by a fake docker first in PATH', async () => {
    // The learner's shell now answers `docker ps` with a made-up web2 on 8080.
    const fake = [
      'mkdir -p ~/bin',
      `printf '#!/bin/sh\\necho "CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS                  NAMES"\\necho "0123456789ab   nginx   nginx     1 min     Up 1 min 0.0.0.0:8080->80/tcp   web2"\\n' > ~/bin/docker`,
      'chmod +x ~/bin/docker',
      'export PATH=~/bin:$PATH',
      'docker ps | grep -c web2',
    ].join('; ');
    const out = await socket.run('t1', fake, /^1\r?$/m, 15_000);
    expect(out).toContain('1');
    const r = await grade('publish-web2');
    expect(statuses(r)).toEqual({ 'web2-published': 'failed', 'web2-answers': 'failed' });
    expect(r.checks[0]!.message).toBe('There is no container named web2.');
  });

  it('reports a platform fault as an error to retry, never as a failed check', async () => {
    // The inner engine stops answering (the learner killed it): nothing can be read.
    await server.driver.exec(server.sessions.sandboxOf(sessionId), ['sh', '-c', 'pkill dockerd; sleep 1']);
    const r = await grade('restarted-web');
    expect(new Set(r.checks.map((c) => c.status))).toEqual(new Set(['error']));
    expect(r.incomplete).toBe(true);
    expect(r.checks[0]!.message).toMatch(/problem on our side/);
    expect(r.checks[0]!.hint).toBeUndefined();
  });
});
