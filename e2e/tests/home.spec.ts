// The home page renders in Chromium, shows the course, and the server reports its engine.
import { expect, test } from '@playwright/test';

test('home page shows what Dockyard is and the course outline', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveTitle(/Dockyard/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Learn Docker by using it.');
  await expect(page.getByRole('heading', { name: 'The course' })).toBeVisible();
  await expect(page.locator('.module')).toHaveCount(9);
  await page.getByRole('link', { name: 'Start the course' }).click();
  await expect(page).toHaveURL(/\/course\/?$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The course');
});

test('an unknown page gets the friendly 404', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This page does not exist.');
});

test('the health endpoint reports the Docker Engine version', async ({ request }) => {
  const res = await request.get('/api/health');
  expect(res.status()).toBe(200);
  const body = (await res.json()) as { status: string; engine: { version: string } };
  expect(body.status).toBe('ok');
  expect(body.engine.version).toMatch(/^\d+\.\d+/);
});

test('the account page says so when GitHub sign-in came back with an error', async ({ page }) => {
  await page.goto('/account/?error=access_denied');
  await expect(page.locator('[data-account-problem]')).toContainText(
    'Signing in with GitHub did not work. GitHub or the server said "access denied".',
  );
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});
