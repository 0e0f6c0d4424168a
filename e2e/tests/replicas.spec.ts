// Two servers behind nginx on one PostgreSQL, as `infra/compose` runs them: the server a learner's
// page is connected to is killed mid-lesson, and the page carries on through the other one by
// itself (no reload): the same terminal, its scrollback, and the program running in it.
import { mkdtempSync } from 'node:fs';
import { expect, test } from './fixtures.ts';
import { freePort } from '../../sandbox-server/src/test-support/harness.ts';
import { startNginx, type NginxServer } from '../../sandbox-server/src/test-support/nginx-server.ts';
import { startPostgres, type PostgresServer } from '../../sandbox-server/src/test-support/postgres-server.ts';
import { E2E_DATA_PREFIX } from '../cleanup.ts';
import { ownServer, type OwnServer } from '../server.ts';
import { terminal, typeLine } from './sandbox.ts';
import { shot } from './shots.ts';

let pg: PostgresServer;
let nginx: NginxServer;
const servers: OwnServer[] = [];

test.beforeAll(async () => {
  pg = await startPostgres();
  const ports = [await freePort(), await freePort()];
  // nginx first: the servers' public address (their allowed origin) is nginx's.
  nginx = await startNginx({ upstreams: ports.map((p) => `127.0.0.1:${p}`) });
  const dataDir = mkdtempSync(E2E_DATA_PREFIX);
  for (const [i, port] of ports.entries()) {
    const server = ownServer(
      port,
      await freePort(),
      { DATABASE_URL: pg.url, DOCKYARD_REPLICA_ID: `r${i + 1}`, DOCKYARD_PUBLIC_URL: nginx.url },
      dataDir,
    );
    // One after the other: the first makes the signing key the second reads.
    await server.start();
    servers.push(server);
  }
});

test.afterAll(async () => {
  for (const s of servers) await s.stop();
  await nginx?.stop();
  await pg?.stop();
});

/** How many terminals a server shows now (its metrics). */
async function terminalsOn(server: OwnServer): Promise<number> {
  const text = await fetch(`${server.url}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  return Number(/^dockyard_terminals_active (\d+)/m.exec(text)?.[1] ?? 0);
}

test('a lesson in progress survives the loss of its server, with no reload', async ({ browser }) => {
  test.setTimeout(120_000);
  const page = await (await browser.newContext({ baseURL: nginx.url })).newPage();
  await page.goto('/lessons/container-lifecycle');
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  const ready = page.getByRole('status').filter({ hasText: 'Sandbox ready' });
  await expect(ready).toBeVisible({ timeout: 30_000 });
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 15_000 });
  await typeLine(page, 'echo "kept-$((20+3))" shell-$$; sleep 600');
  await expect(terminal(page)).toContainText('kept-23 shell-');
  const shell = /kept-23 shell-(\d+)/.exec((await terminal(page).textContent()) ?? '')![1];

  // The server the page's socket landed on dies.
  let showing: OwnServer | undefined;
  for (let i = 0; i < 50 && !showing; i++) {
    for (const s of servers) if ((await terminalsOn(s)) > 0) showing = s;
    if (!showing) await page.waitForTimeout(100);
  }
  expect(showing).toBeDefined();
  await showing!.kill();

  // The page says it lost the connection, reconnects through nginx to the other server, and shows
  // the same terminal: its scrollback, and the sleep still holding the foreground.
  await expect(page.getByRole('status').filter({ hasText: /Connection lost|Reconnecting/ })).toBeVisible({
    timeout: 10_000,
  });
  await page.screenshot({ path: shot('replicas-1-reconnecting') });
  await expect(ready).toBeVisible({ timeout: 30_000 });
  await expect(terminal(page)).toContainText('kept-23 shell-');
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.press('Control+C');
  await typeLine(page, 'echo "again-$$"');
  await expect(terminal(page)).toContainText(`again-${shell}`, { timeout: 10_000 });
  await page.screenshot({ path: shot('replicas-2-carried-on') });
  const survivor = servers.find((s) => s !== showing)!;
  expect(await terminalsOn(survivor)).toBeGreaterThan(0);
});
