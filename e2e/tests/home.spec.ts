// The home page renders in Chromium: what Dockyard is, a way in for each of its people, the course;
// and the server reports its engine.
import { expect, test } from './fixtures.ts';
import { shot } from './shots.ts';

test('home page: what Dockyard is in one screen, a way in for learners, instructors and hosts, and the outline', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');
  await expect(page).toHaveTitle(/Dockyard/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Learn Docker by using it.');

  // One screen: the start, and a picture of the real workspace, above the fold.
  const start = page.getByRole('link', { name: /^Start here: / });
  const shotImg = page.getByRole('img', { name: /terminal/ });
  await expect(shotImg).toBeVisible();
  await expect
    .poll(() => shotImg.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
    .toBe(1024);
  for (const el of [start, shotImg, page.getByRole('heading', { name: 'Host it yourself' })]) {
    const box = (await el.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(900);
  }
  await expect(page.getByRole('heading', { name: 'Learn Docker', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Run a workshop →' })).toHaveAttribute('href', '/workshops/');
  await expect(page.getByText('npm start')).toBeVisible();
  await page.screenshot({ path: shot('home-1440') });

  // The outline: written lessons are links, the others say they are coming.
  await expect(page.locator('.module')).toHaveCount(9);
  await expect(page.locator('.module').first().getByRole('link').first()).toHaveAttribute('href', /^\/lessons\//);
  await expect(page.getByText('coming soon').first()).toBeVisible();

  // Start here opens the first lesson there is; it ends with a link to the next one.
  const first = await start.getAttribute('href');
  await start.click();
  await expect(page).toHaveURL(new RegExp(`${first}/?$`));
  const next = page.getByRole('link', { name: /^Next lesson/ });
  await expect(next).toBeVisible();
  await next.click();
  await expect(page).not.toHaveURL(new RegExp(`${first}/?$`));
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

  // The course page starts with the same way in.
  await page.goto('/course');
  await expect(page.getByRole('link', { name: /^Start here: / })).toHaveAttribute('href', first!);
});

test('home page on a phone, light and dark', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.goto('/');
    await expect(page.getByRole('link', { name: /^Start here: / })).toBeInViewport();
    await page.screenshot({ path: shot(`home-phone-${colorScheme}`) });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');
  await page.screenshot({ path: shot('home-1440-dark') });
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
