// Course completion in Chromium, on a server of the test's own: a learner with every exercise but
// one passed (recorded straight into the server's store, the way grading keeps passes: no solutions
// are run) sees per-module progress and how many exercises are left; passing the last one for real
// in the workspace celebrates with a link to their completion page; the course page has it too,
// with a copy button. An anonymous visitor opens it; a made-up id, and the link of a deleted
// account, show a plain "not found". A guest who finished is asked to create an account.
import { randomBytes } from 'node:crypto';
import { loadExercises, outline } from '@dockyard/content';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { openDatabase } from '../../sandbox-server/src/store/database.ts';
import { Store } from '../../sandbox-server/src/store/store.ts';
import { ownServer } from '../server.ts';
import { seriousViolations } from './axe.ts';
import { startSandbox, terminal, typeLine } from './sandbox.ts';
import { shot } from './shots.ts';

const server = ownServer(18098, 18099);
test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

const exercises = loadExercises();
/** The one passed for real, in its lesson's workspace: two files, written in one command. */
const LAST = 'engine-facts';
const FIRST_DAY = Date.UTC(2026, 10, 3, 12);

/**
 * Passes recorded through the store, one a day from 3 November 2026: a test-only path (the test
 * opens the server's own database), not an API anybody could call.
 */
async function recordPasses(userId: string, ids: readonly string[]): Promise<void> {
  let day = FIRST_DAY;
  const database = await openDatabase({ dataDir: server.dataDir });
  try {
    const store = new Store(database.db, () => (day += 86_400_000) - 86_400_000);
    await store.ensureGuest(userId);
    for (const e of exercises.filter((x) => ids.includes(x.id))) {
      await store.recordAttempt(userId, e.id, e.lesson, { score: 1, maxScore: 1, passed: true, checks: [] });
    }
  } finally {
    await database.close();
  }
}

async function learner(browser: Browser): Promise<{ page: Page; id: string }> {
  const context = await browser.newContext({ baseURL: server.url, locale: 'en-GB' });
  const page = await context.newPage();
  const me = await (await page.request.get('/api/me')).json();
  return { page, id: (me as { user: { id: string } }).user.id };
}

const meter = (page: Page, name: string) => page.getByRole('progressbar', { name, exact: true });

/** Screenshots at 1440 and 390 px wide, light and dark, each checked by axe. */
async function shots(page: Page, name: string): Promise<void> {
  for (const [width, height, size] of [
    [1440, 900, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    await page.setViewportSize({ width, height });
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.screenshot({ path: shot(`${name}-${size}-${colorScheme}`), fullPage: size === 'desktop' });
      // axe in both themes, at both widths: colours and layout must read in each.
      expect(await seriousViolations(page), `${name}, ${size}, ${colorScheme}`).toEqual([]);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1440, height: 900 });
}

test('a learner completes the course and shares a page anyone can open, that cannot be forged', async ({ browser }) => {
  test.setTimeout(180_000);
  const { page, id } = await learner(browser);
  await page.goto('/account/');
  const username = `ada-${randomBytes(3).toString('hex')}`;
  await page.locator('#signup-username').fill(username);
  await page.locator('#signup-display-name').fill('Ada Lovelace');
  await page.locator('#signup-password').fill('a long enough password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in' })).toBeVisible();
  await recordPasses(
    id,
    exercises.map((e) => e.id).filter((e) => e !== LAST),
  );

  // The course page: progress per module and in all, and how many exercises are left.
  await page.goto('/course');
  const total = exercises.length;
  const course = meter(page, 'Your progress');
  await expect(course).toHaveAttribute('aria-valuenow', String(total - 1));
  await expect(course).toHaveAttribute('aria-valuemax', String(total));
  await expect(page.locator('[data-course-left]')).toHaveText(`${total - 1} of ${total} exercises passed: 1 to go.`);
  const lastModule = outline.findIndex((m) => m.lessons.some((l) => l.slug === 'architecture'));
  for (const [i, m] of outline.entries()) {
    const own = exercises.filter((e) => m.lessons.some((l) => l.slug === e.lesson)).length;
    const bar = meter(page, `${i + 1} ${m.title}`);
    await expect(bar).toHaveAttribute('aria-valuemax', String(own));
    const got = i === lastModule ? own - 1 : own;
    await expect(bar).toHaveAttribute(
      'aria-valuetext',
      got === own && own > 1 ? `All ${own} exercises passed` : `${got} of ${own} exercise${own > 1 ? 's' : ''} passed`,
    );
  }
  await expect(page.getByRole('link', { name: 'Your completion page' })).toHaveCount(0);
  await shots(page, 'completion-1-course-one-to-go');

  // The last exercise, passed for real: the celebration links the completion page.
  await startSandbox(page, 'architecture');
  await typeLine(
    page,
    "docker version --format '{{.Server.Version}}' > server-version.txt; docker info --format '{{.Driver}}' > storage-driver.txt",
  );
  // Files written in the shell are no engine event: the learner asks for the check.
  const exercise = page.locator(`[data-exercise="${LAST}"]`);
  await expect(terminal(page)).toContainText(/storage-driver\.txt\s*sandbox:~\/work#/);
  await exercise.getByRole('button', { name: 'Check my work' }).click();
  await expect(exercise.locator('[data-celebrate]')).toBeVisible({ timeout: 60_000 });
  const done = exercise.locator('[data-course-complete]');
  await expect(done).toContainText('You have passed every exercise of the course!');
  const link = done.getByRole('link', { name: 'Your completion page' });
  const url = (await link.getAttribute('href'))!;
  expect(url).toMatch(new RegExp(`^${server.url}/completion/\\?id=[A-Za-z0-9_-]{22}$`));
  await done.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot('completion-2-workspace-celebrates') });

  // The course page: every bar full, the page and a button that copies its link.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/course');
  await expect(page.locator('[data-course-left]')).toHaveText('You have passed every exercise of the course.');
  await expect(course).toHaveAttribute('aria-valuenow', String(total));
  for (const bar of await page.getByRole('progressbar').all()) {
    await expect(bar).toHaveAttribute('aria-valuetext', /^(All \d+ exercises|1 of 1 exercise) passed$/);
  }
  await expect(page.getByRole('link', { name: 'Your completion page' })).toHaveAttribute('href', url);
  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(url);
  await shots(page, 'completion-3-course-complete');

  // Anyone, not signed in, with the link and nothing else: every exercise, by lesson in course
  // order, with the day it was passed.
  const visitor = await (await browser.newContext({ locale: 'en-GB' })).newPage();
  await visitor.goto(url);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('Ada Lovelace completed the Docker course');
  await expect(visitor).toHaveTitle('Ada Lovelace completed the Docker course · Dockyard');
  const items = visitor.locator('.exercise');
  await expect(items).toHaveCount(total);
  await expect(visitor.locator('.exercise[data-passed="true"]')).toHaveCount(total);
  const order = outline.flatMap((m) => m.lessons.map((l) => l.slug));
  const withExercises = order.filter((slug) => exercises.some((e) => e.lesson === slug));
  const titles = outline.flatMap((m) => m.lessons).filter((l) => withExercises.includes(l.slug));
  await expect(visitor.getByRole('heading', { level: 3 })).toHaveText(titles.map((l) => l.title));
  // Passed one a day in id order from 3 November (the store's order), and the last one today.
  const firstPassed = exercises.find((e) => e.id !== LAST)!;
  await expect(visitor.locator(`[data-exercise="${firstPassed.id}"] time`)).toHaveText('3 November 2026');
  await expect(visitor.locator(`[data-exercise="${firstPassed.id}"] time`)).toHaveAttribute('datetime', '2026-11-03');
  for (const when of await visitor.locator('.exercise .when').all()) {
    await expect(when).toHaveText(/^passed on \d{1,2} [A-Z][a-z]+ \d{4}$/);
  }
  await expect(visitor.locator('[data-summary]')).toContainText(
    `All ${total} exercises passed, in 9 modules: the first on 3 November 2026`,
  );
  await expect(visitor.locator('meta[name="robots"]')).toHaveAttribute('content', 'noindex');
  await shots(visitor, 'completion-4-page');

  // Only the id counts: a name put in the link changes nothing, a made-up id is not found.
  await visitor.goto(`${url}&name=Mallory`);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('Ada Lovelace completed the Docker course');
  await visitor.goto(`/completion/?id=${randomBytes(16).toString('base64url')}`);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('This completion page does not exist');
  await expect(visitor.getByRole('link', { name: 'See the course' })).toBeVisible();
  await expect(visitor.getByText('Ada Lovelace')).toHaveCount(0);
  await shots(visitor, 'completion-5-not-found');

  // The learner deletes their account (here, in the store): the link finds nothing any more.
  const database = await openDatabase({ dataDir: server.dataDir });
  try {
    const user = await new Store(database.db).getUser(id);
    await database.db.deleteFrom('auth_user').where('id', '=', user!.authId!).execute();
  } finally {
    await database.close();
  }
  await visitor.goto(url);
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('This completion page does not exist');
});

test('a guest who passed every exercise is asked to create an account for a completion page', async ({ browser }) => {
  const { page, id } = await learner(browser);
  await recordPasses(
    id,
    exercises.map((e) => e.id),
  );
  await page.goto('/course');
  await expect(page.locator('[data-course-left]')).toHaveText('You have passed every exercise of the course.');
  const box = page.locator('[data-completion]');
  await expect(box).toContainText('To get a completion page you can share, create an account');
  await expect(box.getByRole('link', { name: 'create an account' })).toHaveAttribute('href', '/account/');
  await expect(page.getByRole('link', { name: 'Your completion page' })).toHaveCount(0);
});
