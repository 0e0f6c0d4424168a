// A sandbox's end, as the learner sees it, on a server of its own with a short lifetime: a
// countdown with Extend, then "ended" with Start again, which brings a fresh sandbox.
import { expect, test } from './fixtures.ts';
import { ownServer } from '../server.ts';
import { shot } from './shots.ts';

// Sessions live 25 s, and say so from 20 s before the end; the reaper looks every second.
const server = ownServer(18096, 18097, {
  DOCKYARD_SESSION_TTL_S: '25',
  DOCKYARD_EXPIRY_WARNING_S: '20',
  DOCKYARD_REAPER_INTERVAL_S: '1',
});
test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

test('the workspace counts down before the end, says when the sandbox has ended, and starts again', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const page = await (await browser.newContext({ baseURL: server.url })).newPage();
  await page.goto('/lessons/container-lifecycle');
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  const status = page.getByRole('status').filter({ hasText: /Sandbox (ready|ends in)/ });
  await expect(status).toBeVisible({ timeout: 30_000 });

  // Within 5 s the warning starts: a countdown that goes down, and the Extend button.
  const countdown = page.getByText(/^Sandbox ends in 0:\d\d\. Extend to keep it\.$/);
  await expect(countdown).toBeVisible({ timeout: 20_000 });
  const first = await countdown.textContent();
  await expect(countdown).not.toHaveText(first!, { timeout: 5_000 });
  await page.screenshot({ path: shot('expiry-1-countdown') });

  // Nobody extends: the sandbox ends, and the learner is told what to do.
  await expect(page.getByText('Your sandbox has ended. Start again to get a fresh one.')).toBeVisible({
    timeout: 45_000,
  });
  const again = page.getByRole('button', { name: 'Start again' });
  await expect(again).toBeVisible();
  // Only Start again makes sense now; the terminal says the sandbox ended, not how to reopen a shell.
  await expect(page.getByRole('button', { name: 'Extend' })).toBeHidden();
  await expect(page.getByRole('button', { name: 'Reset' })).toBeHidden();
  await expect(page.locator('.term:not([hidden]) .xterm-rows')).toContainText('your sandbox has ended');
  await expect(page.locator('.term:not([hidden]) .xterm-rows')).not.toContainText('press Enter for a new one');
  await page.screenshot({ path: shot('expiry-2-ended') });

  await again.click();
  await expect(page.getByText(/^Sandbox (ready|ends in)/)).toBeVisible({ timeout: 30_000 });
  await expect(again).toBeHidden();
  await expect(page.locator('.term:not([hidden]) .xterm-rows')).toContainText('Dockyard sandbox', { timeout: 15_000 });
});
