// Accessibility: axe-core finds no serious or critical violation on the home, course and lesson
// pages, and the workspace is usable by keyboard (into the terminal and out again).
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

for (const path of ['/', '/course', '/lessons/container-lifecycle']) {
  test(`no serious accessibility violations on ${path}`, async ({ page }) => {
    await page.goto(path);
    expect(await seriousViolations(page)).toEqual([]);
  });
}

test('the workspace, started, has no serious violations, and the terminal is reachable and escapable', async ({
  page,
}) => {
  await page.goto('/lessons/container-lifecycle');
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
  const input = page.getByRole('textbox', { name: /Terminal 1/ });
  await page.getByRole('tab', { name: 'Terminal 1' }).focus();
  await page.keyboard.press('Enter');
  await expect(input).toBeFocused();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  await expect(input).not.toBeFocused();
  expect(await seriousViolations(page)).toEqual([]);
});
