// Progress through the real server: grading records it for the browser's (guest) learner, and a
// server restart on the same data directory loses none of it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';
import { answerEngineFacts } from '../test-support/answers.ts';

interface ProgressReply {
  progress: Array<{ exercise: string; lesson: string; attempts: number; bestScore: number; passed: boolean }>;
}

const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-progress-'));
let server: TestServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('progress', () => {
  it("keeps a guest's attempts and completions, across a server restart", async () => {
    server = await startTestServer({ DOCKYARD_DATA_DIR: dataDir });
    const learner = new TestClient(server.url);
    const sessionId = await learner.createSession();
    expect((await learner.req<ProgressReply>('GET', '/api/progress')).body.progress).toEqual([]);

    await learner.req('POST', `/api/sessions/${sessionId}/grade`, { exercise: 'engine-facts' });
    await answerEngineFacts(server, learner, sessionId);
    await learner.req('POST', `/api/sessions/${sessionId}/grade`, { exercise: 'engine-facts' });
    const before = (await learner.req<ProgressReply>('GET', '/api/progress')).body.progress;
    expect(before).toEqual([
      expect.objectContaining({
        exercise: 'engine-facts',
        lesson: 'architecture',
        attempts: 2,
        bestScore: 2,
        passed: true,
      }),
    ]);
    // Another browser has no progress of its own yet.
    expect((await new TestClient(server.url).req<ProgressReply>('GET', '/api/progress')).body.progress).toEqual([]);

    await server.stop();
    server = await startTestServer({ DOCKYARD_DATA_DIR: dataDir });
    const again = new TestClient(server.url);
    for (const [k, v] of learner.cookies) again.cookies.set(k, v);
    expect((await again.req<ProgressReply>('GET', '/api/progress')).body.progress).toEqual(before);
  });
});
