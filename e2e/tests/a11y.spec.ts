// Accessibility: axe-core finds no serious or critical violation on the home, course, lesson,
// account, join, workshops and admin pages (the dashboard's check is in workshop.spec.ts), and the
// workspace is usable by keyboard: reached in two Tabs, into the terminal at start, and out again.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures.ts';
import { seriousViolations } from './axe.ts';
import { startSandbox } from './sandbox.ts';

/** Every written lesson, in light and in dark: diagrams and code must read in both. */
const written = readdirSync(fileURLToPath(new URL('../../content/lessons/', import.meta.url)))
  .filter((f) => f.endsWith('.mdx'))
  .map((f) => f.replace(/\.mdx$/, ''));
for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`lessons in ${colorScheme}`, () => {
    test.use({ colorScheme });
    for (const slug of written) {
      test(`no serious accessibility violations on lesson ${slug} (${colorScheme})`, async ({ page }) => {
        await page.goto(`/lessons/${slug}/`);
        expect(await seriousViolations(page)).toEqual([]);
      });
    }
  });
}

for (const path of ['/', '/course', '/lessons/container-lifecycle', '/account/', '/join/', '/workshops/', '/admin/']) {
  test(`no serious accessibility violations on ${path}`, async ({ page }) => {
    await page.goto(path);
    expect(await seriousViolations(page)).toEqual([]);
  });
}

test('the workspace, started, has no serious violations, and the terminal is reachable and escapable', async ({
  page,
}) => {
  await startSandbox(page);
  const input = page.getByRole('textbox', { name: /Terminal 1/ });
  await page.getByRole('tab', { name: 'Terminal 1' }).focus();
  await page.keyboard.press('Enter');
  await expect(input).toBeFocused();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  await expect(input).not.toBeFocused();
  expect(await seriousViolations(page)).toEqual([]);
});

test('keyboard: the sandbox is two Tabs into a lesson, and once started the keys go to its terminal', async ({
  page,
}) => {
  await page.goto('/lessons/container-lifecycle');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to your sandbox' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Start my sandbox' })).toBeFocused();
  await page.keyboard.press('Enter');

  // Nothing is lost: what is typed at once waits for the shell, then runs there, once.
  await expect(page.getByRole('textbox', { name: /Terminal 1/ })).toBeFocused();
  await page.keyboard.type('echo "typed at $((6 * 7))"');
  await page.keyboard.press('Enter');
  const rows = page.locator('.term:not([hidden]) .xterm-rows');
  await expect(rows).toContainText('typed at 42', { timeout: 30_000 });
  expect(((await rows.textContent()) ?? '').split('echo "typed at').length - 1).toBe(1);
  await expect(page.getByRole('textbox', { name: /Terminal 1/ })).toBeFocused();
});
