// The `test` of every spec: Playwright's, and at the end of each test the sandboxes its browser
// started on the run's server are ended, as a learner's Reset or leaving would. Otherwise each would
// live its idle time (30 min), and the run's server would meet its limits (40 sandboxes, and the
// room its disks promise on this machine's disk) before the last tests.
import { test as base, type BrowserContext } from '@playwright/test';

export { expect } from '@playwright/test';

/** Ends the sessions the context's learner has on the run's server; nothing when there are none. */
async function endSessions(context: BrowserContext): Promise<void> {
  const list = await context.request.get('/api/sessions');
  if (!list.ok()) return;
  const { sessions } = (await list.json()) as { sessions: { id: string }[] };
  if (sessions.length === 0) return;
  const token = (await context.cookies()).find((c) => c.name === 'dockyard_csrf')?.value;
  if (!token) return;
  for (const s of sessions)
    await context.request.delete(`/api/sessions/${s.id}`, { headers: { 'x-csrf-token': decodeURIComponent(token) } });
}

export const test = base.extend<{ endSandboxes: void }>({
  endSandboxes: [
    async ({ context }, use) => {
      await use();
      await endSessions(context).catch((err: unknown) => console.log(`sessions not ended: ${String(err)}`));
    },
    { auto: true },
  ],
});
