// A learner works through lesson 7 in Chromium: starts the sandbox, clicks Run, sees the output,
// finishes the exercise and watches every check turn green; then reloads and finds the same
// sandbox, terminal history and containers.
import { shot } from './shots.ts';
import { pressStart, terminal } from './sandbox.ts';
import { expect, test } from './fixtures.ts';

test('lesson 7: Run, finish the exercise, every check turns green, and a reload keeps the sandbox', async ({
  page,
}) => {
  await page.goto('/lessons/container-lifecycle');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('The container lifecycle');
  await page.screenshot({ path: shot('lesson7-1-opened') });

  await pressStart(page);

  await page.locator('[data-run="docker run -d --name web nginx"]').first().click();
  await expect(terminal(page)).toContainText(/[0-9a-f]{64}/, { timeout: 60_000 });
  await page.screenshot({ path: shot('lesson7-2-ran') });

  const exercise = page.locator('[data-exercise="restarted-web"]');
  await expect(exercise.locator('[data-check="web-running"]')).toHaveAttribute('data-status', 'passed', {
    timeout: 20_000,
  });
  await expect(exercise.locator('[data-check="web-restarted"]')).toHaveAttribute('data-status', 'failed');

  // The learner finishes it by typing in the terminal.
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type('docker restart web');
  await page.keyboard.press('Enter');
  await expect(exercise.locator('[data-check="web-restarted"]')).toHaveAttribute('data-status', 'passed', {
    timeout: 30_000,
  });
  await expect(exercise.locator('[data-celebrate]')).toBeVisible();
  await expect(exercise.locator('[data-score]')).toHaveText('2 / 2 points');
  await exercise.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot('lesson7-3-green') });

  // A reload: the workspace comes back by itself, on the same sandbox, with the terminal's history.
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
  await expect(terminal(page)).toContainText('docker restart web', { timeout: 15_000 });
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type('docker ps --format "{{.Names}} {{.Status}}"');
  await page.keyboard.press('Enter');
  await expect(terminal(page)).toContainText(/web Up/, { timeout: 15_000 });
  await page.screenshot({ path: shot('lesson7-4-reloaded') });

  // The server kept the progress: the course overview marks the lesson done.
  await page.goto('/course');
  const lesson = page.locator('[data-lesson-item]', { hasText: 'The container lifecycle' });
  await expect(lesson.locator('.done')).toBeVisible();
  await expect(page.getByText('comes with your own sandbox. You have finished 1 lesson.')).toBeVisible();
  // Lesson 7 is done: resuming goes on to the next written lesson.
  const links = await page
    .locator('[data-lesson-item]')
    .evaluateAll((items) => items.map((li) => li.querySelector('a')?.getAttribute('href') ?? ''));
  const next = links.slice(links.indexOf('/lessons/container-lifecycle') + 1).find(Boolean)!;
  const nextTitle = await page.locator(`[data-lesson-item] a[href="${next}"]`).textContent();
  await expect(page.locator('[data-resume] a')).toHaveText(`Continue where you left off: ${nextTitle} →`);
  await page.locator('[data-resume] a').click();
  await expect(page).toHaveURL(new RegExp(`${next}/?$`));

  // Back in lesson 7, the exercise says when it was passed, with the month written out.
  await page.goto('/lessons/container-lifecycle');
  await expect(page.locator('[data-exercise="restarted-web"] [data-past]')).toHaveText(
    /^✓ You passed this on (\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4})\.$/,
  );
});

test('lesson 15: the sandbox map shows both containers on app-net', async ({ page }) => {
  await page.goto('/lessons/user-defined-networks');
  await pressStart(page);
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type(
    'docker network create app-net && docker run -d --name db --network app-net redis && docker run -d --name api --network app-net busybox sleep 3600',
  );
  await page.keyboard.press('Enter');
  await page.getByRole('tab', { name: 'Sandbox map' }).click();
  const net = page.locator('[data-network="app-net"]');
  await expect(net.locator('[data-container="api"]')).toBeVisible({ timeout: 60_000 });
  await expect(net.locator('[data-container="db"]')).toBeVisible();
  await page.screenshot({ path: shot('lesson15-map') });
  const exercise = page.locator('[data-exercise="app-net"]');
  await expect(exercise.locator('[data-check="api-reaches-db"]')).toHaveAttribute('data-status', 'passed', {
    timeout: 30_000,
  });
});

test('lesson 10: edit the Dockerfile in the editor, build, every check passes, and the preview shows the app', async ({
  page,
  context,
}) => {
  await page.goto('/lessons/first-dockerfile');
  await pressStart(page);

  // The starter Dockerfile is in ~/work: the learner completes it in the editor and saves.
  await page.getByRole('tab', { name: 'Editor' }).click();
  await page.locator('[data-file="Dockerfile"]').click();
  const editor = page.locator('[data-editor] .monaco-editor');
  await expect(editor.locator('.view-lines')).toContainText('FROM node:24', { timeout: 30_000 });
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(
    'FROM node:24\nWORKDIR /app\nCOPY server.js .\nEXPOSE 3000\nCMD ["node", "server.js"]\n',
  );
  await page.keyboard.press('Control+S');
  await expect(page.locator('[data-note]')).toHaveText('Saved');
  await page.screenshot({ path: shot('lesson10-1-edited') });

  await page.getByRole('tab', { name: 'Terminal' }).click();
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type('docker build -t hello-app . && docker run -d -p 3000:3000 hello-app');
  await page.keyboard.press('Enter');

  const exercise = page.locator('[data-exercise="hello-app"]');
  for (const check of ['dockerfile-shape', 'image-built', 'app-answers']) {
    await expect(exercise.locator(`[data-check="${check}"]`)).toHaveAttribute('data-status', 'passed', {
      timeout: 120_000,
    });
  }
  await expect(exercise.locator('[data-celebrate]')).toBeVisible();
  await page.screenshot({ path: shot('lesson10-2-green') });

  // The published port appears as a button; it opens the app on its own preview origin.
  const open = page.getByRole('button', { name: /Open port 3000/ });
  await expect(open).toBeVisible({ timeout: 15_000 });
  const [preview] = await Promise.all([context.waitForEvent('page'), open.click()]);
  await expect(preview.locator('body')).toContainText('Hello from Dockyard!', { timeout: 15_000 });
  expect(new URL(preview.url()).hostname).toMatch(/^p3000-[0-9a-f]{16}\.localhost$/);
  await preview.screenshot({ path: shot('lesson10-3-preview') });
});

test('the workspace extends and resets the sandbox, and says what is happening', async ({ page }) => {
  await page.goto('/lessons/container-lifecycle');
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  const ready = page.getByRole('status').filter({ hasText: 'Sandbox ready' });
  await expect(ready).toBeVisible({ timeout: 30_000 });
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type('docker run -d --name before-reset busybox sleep 600');
  await page.keyboard.press('Enter');
  await expect(terminal(page)).toContainText(/[0-9a-f]{64}/, { timeout: 60_000 });

  const sessions = (await (await page.request.get('/api/sessions')).json()) as {
    sessions: Array<{ id: string; expiresAt: number }>;
  };
  const before = sessions.sessions[0]!;
  await page.getByRole('button', { name: 'Extend' }).click();
  await expect
    .poll(async () => {
      const r = (await (await page.request.get(`/api/sessions/${before.id}`)).json()) as {
        session: { expiresAt: number };
      };
      return r.session.expiresAt;
    })
    .toBeGreaterThan(before.expiresAt);

  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Starting a fresh sandbox' })).toBeVisible({
    timeout: 10_000,
  });
  await expect(ready).toBeVisible({ timeout: 30_000 });
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 15_000 });
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type('echo "containers=$(docker ps -aq | wc -l)"');
  await page.keyboard.press('Enter');
  await expect(terminal(page)).toContainText('containers=0', { timeout: 15_000 });
  await page.screenshot({ path: shot('workspace-after-reset') });
});
