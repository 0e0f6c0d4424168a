// The Start button before the workspace is there: it shows at once that the click was taken, and
// when the workspace's code cannot load (a dropped connection, here an aborted request) it says so
// beside the button, with what to do, instead of doing nothing.
import { expect, test } from './fixtures.ts';
import { shot } from './shots.ts';

/** The workspace's code, loaded when the learner starts it. */
const WORKSPACE_CODE = /\/_astro\/workspace\.[^/]+\.js$/;

test('Start shows at once that it was taken, while the workspace loads', async ({ page }) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route(WORKSPACE_CODE, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/lessons/container-lifecycle');
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  await expect(page.getByRole('button', { name: 'Starting…' })).toHaveAttribute('aria-busy', 'true');
  release();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`a workspace that cannot load says so beside Start, with what to do (${colorScheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.route(WORKSPACE_CODE, (route) => route.abort('internetdisconnected'));
    await page.goto('/lessons/container-lifecycle');
    await page.getByRole('button', { name: 'Start my sandbox' }).click();
    await expect(page.getByRole('alert')).toHaveText(
      'Your sandbox could not start: this page could not load what it needs (is your connection down?). Reload the page to try again.',
    );
    const start = page.getByRole('button', { name: 'Start my sandbox' });
    await expect(start).not.toHaveAttribute('aria-busy');
    await page.screenshot({ path: shot(`start-failed-${colorScheme}`) });
  });
}
