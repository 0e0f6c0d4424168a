// The editor in Chromium: Monaco stays off the lesson page until the learner opens the Editor tab;
// then the file tree shows ~/work, a file opens, typing marks it unsaved, Ctrl+S saves it to the
// sandbox, a new file can be made, and leaving unsaved changes asks first.
import { shot } from './shots.ts';
import { pressStart } from './sandbox.ts';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { csrf } from './csrf.ts';

/** What only the editor's lazy chunks are called or contain in their URL. */
const EDITOR_CODE = /monaco|codicon|editor\.worker|\/editor\.[\w-]+\.(js|css)/i;

async function lessonPage(page: Page): Promise<void> {
  // The Dockerfile lesson when it is written; until then any lesson has the same workspace.
  const first = await page.goto('/lessons/first-dockerfile/');
  if (first?.status() === 404) await page.goto('/lessons/container-lifecycle/');
}

test('the editor loads only when opened, and edits and saves files in ~/work', async ({ page }) => {
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));

  await lessonPage(page);
  await pressStart(page);

  const listed = await page.request.get('/api/sessions');
  const { sessions } = (await listed.json()) as { sessions: Array<{ id: string }> };
  const id = sessions[0]!.id;
  const file = (path: string) => `/api/sessions/${id}/file?path=${encodeURIComponent(path)}`;
  for (const [path, content] of [
    ['Dockerfile', 'FROM alpine:3.20\n'],
    ['app/main.py', 'print("hello")\n'],
  ]) {
    expect((await page.request.put(file(path!), { data: { content }, headers: await csrf(page) })).ok()).toBe(true);
  }

  // Nothing of Monaco before the learner opens the editor.
  expect(requested.filter((u) => EDITOR_CODE.test(u))).toEqual([]);

  await page.getByRole('tab', { name: 'Editor' }).click();
  const tree = page.getByRole('tree', { name: 'Files in ~/work' });
  await expect(tree.locator('[data-file="Dockerfile"]')).toBeVisible({ timeout: 30_000 });
  await expect(tree.locator('[data-dir="app"]')).toHaveAttribute('aria-expanded', 'false');
  expect(requested.some((u) => EDITOR_CODE.test(u))).toBe(true);

  // The keyboard: into the folder and back out.
  await tree.locator('[data-dir="app"]').click();
  await expect(tree.locator('[data-file="app/main.py"]')).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expect(tree.locator('[data-dir="app"]')).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.press('Enter');
  await expect(tree.locator('[data-dir="app"]')).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(tree.locator('[data-file="app/main.py"]')).toBeFocused();
  await page.screenshot({ path: shot('editor-1-tree') });

  await tree.locator('[data-file="Dockerfile"]').click();
  const editor = page.locator('[data-editor] .monaco-editor');
  await expect(editor.locator('.view-lines')).toContainText('FROM alpine:3.20');
  await expect(page.locator('[data-title]')).toHaveText('Dockerfile');
  await expect(editor.locator('.mtk1, [class*="mtk"]').first()).toBeVisible();

  const unsaved = page.getByRole('img', { name: 'unsaved changes' });
  await expect(unsaved).toBeHidden();
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('ENV GREETING=hello-from-the-editor');
  await expect(unsaved).toBeVisible();
  await page.screenshot({ path: shot('editor-2-unsaved') });

  await page.keyboard.press('Control+S');
  // Each step below is a command in the sandbox or two: a loaded machine takes seconds for them.
  await expect(page.locator('[data-note]')).toHaveText('Saved', { timeout: 15_000 });
  await expect(unsaved).toBeHidden();
  await page.screenshot({ path: shot('editor-3-saved') });
  const saved = (await (await page.request.get(file('Dockerfile'))).json()) as { content: string };
  expect(saved.content).toBe('FROM alpine:3.20\nENV GREETING=hello-from-the-editor');

  // New file: asks for a name, creates it empty, opens it.
  page.once('dialog', (d) => void d.accept('compose.yaml'));
  await page.getByRole('button', { name: 'New file' }).click();
  await expect(tree.locator('[data-file="compose.yaml"]')).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('[data-title]')).toHaveText('compose.yaml');
  expect(((await (await page.request.get(file('compose.yaml'))).json()) as { content: string }).content).toBe('');

  // Unsaved changes: opening another file asks first; dismissing keeps them.
  await editor.locator('.view-lines').click();
  await page.keyboard.type('services:');
  await expect(unsaved).toBeVisible();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await tree.locator('[data-file="Dockerfile"]').click();
  await expect.poll(() => asked).toContain('compose.yaml has unsaved changes');
  await expect(page.locator('[data-title]')).toHaveText('compose.yaml');
  await expect(unsaved).toBeVisible();
  await page.screenshot({ path: shot('editor-4-new-file') });

  // The editor's theme follows the system's.
  await expect(editor).toHaveClass(/(^|\s)vs(\s|$)/);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(editor).toHaveClass(/(^|\s)vs-dark(\s|$)/);
  await page.screenshot({ path: shot('editor-5-dark') });

  await page.request.delete(`/api/sessions/${id}`, { headers: await csrf(page) });
});
