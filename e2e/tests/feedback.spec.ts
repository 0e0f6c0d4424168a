// What the workspace tells a newcomer: a Run click shows the terminal and saves the editor's file
// first, says so when the terminal is inside a container, types a command once; checks wait for
// the learner before showing failures and say what to do without a sandbox; Extend confirms.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { shot } from './shots.ts';
import { startSandbox, terminal, typeLine } from './sandbox.ts';

async function sessionId(page: Page): Promise<string> {
  const { sessions } = (await (await page.request.get('/api/sessions')).json()) as { sessions: { id: string }[] };
  return sessions[0]!.id;
}

test('Run with the editor showing: the terminal comes back and the unsaved Dockerfile is saved first', async ({
  page,
}) => {
  await startSandbox(page, 'first-dockerfile');
  await page.getByRole('tab', { name: 'Editor' }).click();
  await page.locator('[data-file="Dockerfile"]').click();
  const lines = page.locator('[data-editor] .monaco-editor .view-lines');
  await expect(lines).toContainText('FROM node:24', { timeout: 30_000 });
  await lines.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('\nWORKDIR /app\n');

  // Back on the terminal, the unsaved file cannot be missed.
  await page.getByRole('tab', { name: 'Terminal', exact: true }).click();
  const notice = page.locator('[data-notice]');
  await expect(notice).toContainText('Dockerfile has changes you have not saved');
  await page.screenshot({ path: shot('feedback-unsaved') });
  await page.getByRole('tab', { name: 'Editor' }).click();
  await lines.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText('COPY server.js .\n');

  await page.locator('[data-run="docker build -t hello-app ."]').click();
  await expect(page.getByRole('tab', { name: 'Terminal', exact: true })).toHaveAttribute('aria-selected', 'true');
  await expect(terminal(page)).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Saved Dockerfile first' })).toBeVisible();
  await expect(notice).toBeHidden();
  const id = await sessionId(page);
  const saved = (await (await page.request.get(`/api/sessions/${id}/file?path=Dockerfile`)).json()) as {
    content: string;
  };
  expect(saved.content).toContain('COPY server.js .');
  await expect(terminal(page)).toContainText('docker build -t hello-app .', { timeout: 15_000 });
});

test('Run inside a container says so instead of failing; Run before the sandbox types the command once', async ({
  page,
}) => {
  await page.goto('/lessons/container-lifecycle');
  await page.locator('[data-run="docker ps -a"]').first().click();
  await expect(terminal(page)).toContainText('CONTAINER ID', { timeout: 30_000 });
  const text = (await terminal(page).textContent())!;
  expect(text.split('docker ps -a').length - 1).toBe(1);

  await typeLine(page, 'docker run -it --rm busybox sh');
  await expect(terminal(page)).toContainText('/ #', { timeout: 60_000 });
  await page.locator('[data-run="docker ps"]').first().click();
  const notice = page.locator('[data-notice]');
  await expect(notice).toContainText('You are inside a container');
  await expect(notice).toContainText('exit');
  await page.screenshot({ path: shot('feedback-inside-container') });
  await expect(terminal(page)).not.toContainText('docker: not found');

  await typeLine(page, 'exit');
  await expect(terminal(page)).toContainText(/# exit\s*sandbox:~\/work#/, { timeout: 15_000 });
  await page.locator('[data-run="docker ps"]').first().click();
  await expect(notice).toBeHidden();
  await expect(terminal(page)).toContainText(/sandbox:~\/work# docker ps\s*CONTAINER ID/, { timeout: 15_000 });
});

test('checks: "Check my work" without a sandbox says what to do; not-yet-tried checks wait as pending', async ({
  page,
}) => {
  await page.goto('/lessons/container-lifecycle');
  const exercise = page.locator('[data-exercise="restarted-web"]');
  await exercise.getByRole('button', { name: 'Check my work' }).click();
  const note = exercise.locator('[data-check-note]');
  await expect(note).toContainText('your sandbox is not started');
  await exercise.scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot('feedback-check-without-sandbox') });
  await note.getByRole('button', { name: 'Start my sandbox' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });

  // Graded as soon as the sandbox is up, but nothing was tried yet: no red.
  await expect(exercise).toHaveAttribute('data-graded', '', { timeout: 20_000 });
  await expect(exercise.locator('[data-check="web-running"]')).toHaveAttribute('data-status', 'pending');
  await expect(exercise.locator('[data-check="web-restarted"]')).toHaveAttribute('data-status', 'pending');
  await expect(exercise).not.toContainText('There is no container named web');
  await page.screenshot({ path: shot('feedback-checks-pending') });

  // The learner acts: now what is missing shows.
  await typeLine(page, 'docker ps');
  await expect(exercise.locator('[data-check="web-running"]')).toHaveAttribute('data-status', 'failed', {
    timeout: 20_000,
  });
});

test('the workspace shows the time left, and Extend confirms the new end', async ({ page }) => {
  await startSandbox(page);
  const status = page.locator('.ws-status');
  await expect(status).toHaveText(/^Sandbox ready · (1 h 59 min|2 h) left$/);
  await page.getByRole('button', { name: 'Extend' }).click();
  await expect(status).toHaveText(/^Extended: your sandbox now ends at .+ \((3 h 59 min|4 h) left\)\.$/);
  await page.screenshot({ path: shot('feedback-extended') });
});
