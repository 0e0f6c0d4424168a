// What a learner sees when the host running their sandbox stops, in Chromium: a server with the
// swarm driver over three sandbox hosts on this machine (the swarm tier's set-up), a lesson with its
// sandbox on a worker host, that host killed. Saves screenshots of the page (desktop and phone,
// light and dark) to e2e/screenshots/lost-host-*.png, then presses Start again and checks the new
// sandbox answers. Not part of `npm test` (the swarm tier checks the same through the protocol):
//   node e2e/scripts/lost-host.ts        (as root, after `npm run setup`; about 2 minutes)
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, type Page } from '@playwright/test';
import { freePort } from '../../sandbox-server/src/test-support/harness.ts';
import { sandboxHosts, startSandboxSwarm } from '../../sandbox-server/src/test-support/sandbox-swarm.ts';
import { shot } from '../tests/shots.ts';
import { startSandbox, terminal, typeLine } from '../tests/sandbox.ts';

const say = (line: string) => console.log(`[lost-host] ${line}`);

const swarm = await startSandboxSwarm({ log: () => undefined, agentSweepMs: 2_000 });
const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-lost-host-'));
chmodSync(dataDir, 0o711);
const port = await freePort();
const server = spawn(process.execPath, [join(import.meta.dirname, '../../sandbox-server/src/main.ts')], {
  env: {
    ...process.env,
    DOCKYARD_PORT: String(port),
    DOCKYARD_PREVIEW_PORT: String(await freePort()),
    DOCKYARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
    DOCKYARD_DATA_DIR: dataDir,
    DOCKYARD_DRIVER: 'swarm',
    DOCKYARD_DOCKER_SOCKET: swarm.rig.nodes[0]!.socket,
    DOCKYARD_SWARM_NODE_ENGINE: swarm.nodeEngineTemplate,
    DOCKYARD_WARM_POOL_SIZE: '0',
    DOCKYARD_SANDBOX_MEMORY_MB: '512',
    DOCKYARD_SANDBOX_STORAGE_MB: '1024',
    DOCKYARD_LOG_LEVEL: 'warn',
  },
  stdio: 'inherit',
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
try {
  for (let i = 0; ; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok) break;
    if (i === 120) throw new Error('the server did not get ready');
    await new Promise((r) => setTimeout(r, 500));
  }
  // The manager's host takes no new sandbox: the learner's goes to a worker, which can stop alone.
  await swarm.rig.availability('node1', 'pause');
  const context = await browser.newContext({
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 800 },
  });
  const page: Page = await context.newPage();
  await startSandbox(page);
  const [sandbox] = await swarm.driver.list();
  const host = (await sandboxHosts(swarm.rig)).get(sandbox!.id)!;
  say(`the sandbox runs on ${host}; stopping it`);
  const stoppedAt = Date.now();
  await swarm.rig.kill(host);
  const status = page.getByRole('status').filter({ hasText: 'Your sandbox was lost' });
  await expect(status).toBeVisible({ timeout: 30_000 });
  say(`the page said so after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s: ${await status.textContent()}`);
  await expect(page.getByRole('button', { name: 'Start again' })).toBeVisible();
  for (const [name, size] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(size);
    // A phone shows the lesson or the workspace: the message is on the workspace.
    if (name === 'phone') await page.getByRole('tab', { name: 'Workspace' }).click();
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.screenshot({ path: shot(`lost-host-1-told-${name}-${colorScheme}`) });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Start again' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 60_000 });
  await typeLine(page, 'echo "again-$((2+3))"');
  await expect(terminal(page)).toContainText('again-5', { timeout: 15_000 });
  await page.screenshot({ path: shot('lost-host-2-started-again') });
  say('Start again gave a sandbox that answers; screenshots in e2e/screenshots/lost-host-*.png');
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  for (const s of await swarm.driver.list()) await swarm.driver.remove(s.id).catch(() => undefined);
  await swarm.close();
  rmSync(dataDir, { recursive: true, force: true });
}
