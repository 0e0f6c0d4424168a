// A class, in four browser contexts on a server of the test's own: an admin makes a colleague an
// instructor; the instructor creates a workshop; two learners join by code (one by the link, one
// by typing it); one passes an exercise and the instructor's grid turns green without a reload;
// the instructor watches that learner's terminal live (and the learner sees it), sends a message,
// downloads the CSV with both learners; then the server restarts mid-workshop, the dashboard
// reconnects by itself and shows the same progress; last, the admin resets a forgotten password.
import { pressStart } from './sandbox.ts';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { ownServer } from '../server.ts';
import { seriousViolations } from './axe.ts';
import { shot } from './shots.ts';

const server = ownServer(18094, 18095, { DOCKYARD_ADMINS: 'root' });
test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

async function signUp(browser: Browser, username: string, displayName: string): Promise<Page> {
  const page = await (await browser.newContext({ baseURL: server.url })).newPage();
  await page.goto('/account/');
  await page.locator('#signup-username').fill(username);
  await page.locator('#signup-display-name').fill(displayName);
  await page.locator('#signup-password').fill(`${username} has a long password`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in' })).toBeVisible();
  return page;
}

async function typeIn(page: Page, line: string): Promise<void> {
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

test('an instructor runs a workshop: live grid, watching, message, CSV, and a restart', async ({ browser }) => {
  test.setTimeout(240_000);

  // The admin makes Tess an instructor.
  const admin = await signUp(browser, 'root', 'Root');
  const teacher = await signUp(browser, 'tess', 'Tess Teacher');
  await expect(teacher.locator('[data-nav-workshops]')).toBeHidden();
  await admin.goto('/admin/');
  const tessRole = admin.getByLabel('Role of Tess Teacher');
  await tessRole.selectOption('instructor');
  await expect(admin.locator('[data-done]')).toContainText(/instructor/i);
  await admin.screenshot({ path: shot('workshop-1-admin') });

  // Tess creates the workshop and gets a join code.
  await teacher.goto('/workshops/');
  await teacher.locator('#ws-title').fill('Docker basics, Monday');
  await teacher.locator('input[data-lesson-choice="container-lifecycle"]').check();
  await teacher.locator('#ws-seats').fill('10');
  await teacher.getByRole('button', { name: 'Create workshop' }).click();
  const item = teacher.locator('li[data-workshop]').first();
  await expect(item.locator('[data-join-code]')).toHaveText(/^[A-Z2-9]{6}$/);
  const code = (await item.locator('[data-join-code]').textContent())!.trim();
  const joinUrl = await item.locator('[data-join-link]').inputValue();
  expect(joinUrl).toBe(`${server.url}/join/?code=${code}`);
  await teacher.screenshot({ path: shot('workshop-2-created') });
  await item.getByRole('link', { name: 'Open dashboard' }).click();
  await expect(teacher.locator('[data-connection]')).toHaveAttribute('data-state', 'live');

  // Two learners join in their own browsers: Ana by the link, Ben by typing the code.
  const ana = await (await browser.newContext({ baseURL: server.url })).newPage();
  await ana.goto(joinUrl);
  await expect(ana.locator('[data-workshop-info] h2')).toHaveText('Docker basics, Monday');
  await ana.locator('#join-name').fill('Ana');
  await ana.locator('[data-join-button]').click();
  await expect(ana).toHaveURL(/\/lessons\/container-lifecycle\/?$/);
  const ben = await (await browser.newContext({ baseURL: server.url })).newPage();
  await ben.goto('/join/');
  await ben.locator('#join-code').fill(code.toLowerCase());
  await ben.locator('#join-name').fill('Ben');
  await ben.locator('[data-join-button]').click();
  await expect(ben).toHaveURL(/\/lessons\/container-lifecycle\/?$/);

  const rows = teacher.locator('tr[data-learner-row]');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Ana');
  await expect(rows.nth(1)).toContainText('Ben');
  const anaId = (await rows.nth(0).getAttribute('data-learner-row'))!;
  const anaCell = teacher.locator(`td[data-learner="${anaId}"][data-exercise="restarted-web"]`);
  await expect(anaCell).toHaveAttribute('data-status', 'none');

  // Ana passes the exercise; Tess's grid turns green without a reload.
  await pressStart(ana);
  await typeIn(ana, 'docker run -d --name web nginx && docker restart web');
  await expect(anaCell).toHaveAttribute('data-status', 'passed', { timeout: 60_000 });
  await expect(teacher.locator(`td[data-learner="${anaId}"]`).first()).toBeVisible();
  await teacher.screenshot({ path: shot('workshop-3-green') });

  // Tess watches Ana's terminal live; Ana is told.
  await teacher.locator(`button[data-watch="${anaId}"]`).click();
  const panel = teacher.locator('[data-watch-panel]');
  await expect(panel.locator('[data-watch-name]')).toContainText('Ana');
  await expect(ana.locator('p[data-watched]')).toContainText('Tess Teacher');
  await typeIn(ana, 'echo watched-$((6*7))');
  await expect(panel.locator('[data-watch-terms] .xterm-rows')).toContainText('watched-42', { timeout: 15_000 });
  await teacher.screenshot({ path: shot('workshop-4-watching') });
  expect(await seriousViolations(teacher)).toEqual([]);
  await ana.screenshot({ path: shot('workshop-5-learner-watched') });

  // A message to the class reaches Ana's page.
  await teacher.locator('#broadcast-text').fill('Break in five minutes');
  await teacher.getByRole('button', { name: 'Send' }).click();
  await expect(teacher.locator('[data-broadcast-status]')).toContainText('Sent to 1 learner');
  await expect(ana.locator('[data-broadcast]')).toContainText('Break in five minutes');

  // The CSV has both learners, and Ana's pass.
  const csvUrl = await teacher.locator('[data-results-csv]').getAttribute('href');
  const csv = await (await teacher.request.get(csvUrl!)).text();
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toContain('restarted-web');
  expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['Ana', 'Ben']);
  expect(lines[1]).toContain('passed 2/2');

  // The class is full at two: the instructor can change the seats (and the end) from the dashboard.
  await teacher.locator('#change-seats').fill('2');
  await teacher.getByRole('button', { name: 'Save changes' }).click();
  await expect(teacher.locator('[data-change-status]')).toContainText('2 seats');
  await expect(teacher.locator('[data-summary]')).toContainText('joined of 2');

  // The server restarts mid-workshop: the dashboard says so, reconnects by itself, and nothing is lost.
  await server.stop();
  await expect(teacher.locator('[data-connection]')).not.toHaveAttribute('data-state', 'live');
  await server.start();
  await expect(teacher.locator('[data-connection]')).toHaveAttribute('data-state', 'live', { timeout: 30_000 });
  await expect(anaCell).toHaveAttribute('data-status', 'passed');
  await expect(rows).toHaveCount(2);
  await teacher.screenshot({ path: shot('workshop-6-after-restart') });
  // Ana's sandbox survived the restart too: the workspace reconnects to it.
  await expect(ana.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });

  // Tess forgot her password: the admin gives her a one-time one, which signs her in.
  await admin.goto('/admin/');
  admin.once('dialog', (d) => void d.accept());
  await admin.getByRole('button', { name: "Reset Tess Teacher's password" }).click();
  await expect(admin.locator('[data-done]')).toContainText('New password for Tess Teacher:');
  await admin.screenshot({ path: shot('workshop-7-password-reset') });
  const password = /New password for Tess Teacher: (\S+) /.exec(
    (await admin.locator('[data-done]').textContent())!,
  )![1]!;
  await teacher.goto('/account/');
  await teacher.locator('#signin-login').fill('tess');
  await teacher.locator('#signin-password').fill(password);
  await teacher.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(teacher.getByRole('heading', { name: 'Signed in' })).toBeVisible();
});
