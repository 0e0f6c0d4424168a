// Exercise answers tests give as a learner would, through the editor's file API.
import type { TestClient, TestServer } from './harness.ts';

/** Saves both answers of engine-facts: the engine's own version (read from the sandbox) and its storage driver. */
export async function answerEngineFacts(server: TestServer, client: TestClient, sessionId: string): Promise<void> {
  const sandbox = server.sessions.sandboxOf(sessionId);
  const version = await server.driver.exec(sandbox, ['docker', 'version', '--format', '{{.Server.Version}}']);
  for (const [path, content] of [
    ['server-version.txt', version.stdout],
    ['storage-driver.txt', 'overlay2\n'],
  ] as const) {
    const r = await client.req('PUT', `/api/sessions/${sessionId}/file?path=${path}`, { content });
    if (r.status !== 200) throw new Error(`saving ${path} answered ${r.status}`);
  }
}
