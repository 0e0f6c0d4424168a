// The terminal as a newcomer meets it in lesson 7: reloads that replay an inner container's
// session, tabs that open, focus and close, and a width where `docker ps` fits.
import { expect, test } from './fixtures.ts';
import { shot } from './shots.ts';
import { startSandbox, terminal, typeLine } from './sandbox.ts';

test('a reload after an inner shell replays its output without answering its old queries into the shell', async ({
  page,
}) => {
  await startSandbox(page);
  // BusyBox sh asks the terminal where its cursor is; the answer belongs to that moment only.
  await typeLine(page, 'docker run -it --rm busybox sh');
  await expect(terminal(page)).toContainText('/ #', { timeout: 60_000 });
  await typeLine(page, 'exit');
  await expect(terminal(page)).toContainText(/# exit\s*sandbox:~\/work#/, { timeout: 15_000 });

  for (let i = 0; i < 2; i++) {
    await page.reload();
    await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
    await expect(terminal(page)).toContainText('docker run -it --rm busybox sh', { timeout: 15_000 });
  }
  await page.locator('[data-run="docker ps -a"]').first().click();
  await typeLine(page, 'echo "replayed=$((40 + 2))"');
  await expect(terminal(page)).toContainText('replayed=42', { timeout: 15_000 });
  await expect(terminal(page)).not.toContainText('syntax error');
  await expect(terminal(page)).not.toContainText(';5R');
  await expect(terminal(page)).not.toContainText('command not found');
  await page.screenshot({ path: shot('terminal-replayed') });
});

test('terminal tabs: + opens one with the focus in it, × and exit close them, and the ninth says why not', async ({
  page,
}) => {
  await startSandbox(page);
  const tabs = page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab');
  const add = page.getByRole('button', { name: 'Open another terminal' });
  await expect(tabs).toHaveCount(1);

  // The new terminal has the keyboard: a command with spaces and Enter runs there, and opens nothing.
  await add.click();
  await expect(tabs).toHaveCount(2);
  await expect(page.getByRole('tab', { name: 'Terminal 2' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('textbox', { name: /Terminal 2/ })).toBeFocused();
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 15_000 });
  await page.keyboard.type('echo "in the second one"');
  await page.keyboard.press('Enter');
  await expect(terminal(page)).toContainText('in the second one', { timeout: 15_000 });
  await expect(tabs).toHaveCount(2);
  await page.screenshot({ path: shot('terminal-tabs') });

  // `exit` closes the tab, as the welcome text says.
  await page.keyboard.type('exit');
  await page.keyboard.press('Enter');
  await expect(tabs).toHaveCount(1);
  await expect(page.getByRole('status').filter({ hasText: 'Terminal 2 closed' })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Terminal 1' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('textbox', { name: /Terminal 1/ })).toBeFocused();

  // Up to eight; the ninth is refused with the reason.
  for (let n = 2; n <= 8; n++) await add.click();
  await expect(tabs).toHaveCount(8);
  await add.click();
  await expect(tabs).toHaveCount(8);
  await expect(page.getByRole('status').filter({ hasText: '8 terminals are open' })).toBeVisible();
  await page.screenshot({ path: shot('terminal-tabs-full') });

  // The × of a tab closes it; so does Delete on the selected tab, and the arrow keys move between tabs.
  await tabs.last().locator('.ws-close').click();
  await expect(tabs).toHaveCount(7);
  await tabs.first().focus();
  await page.keyboard.press('ArrowRight');
  await expect(tabs.nth(1)).toBeFocused();
  await expect(tabs.nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Delete');
  await expect(tabs).toHaveCount(6);
  await expect(page.getByRole('status').filter({ hasText: '8 terminals are open' })).toHaveCount(0);
});

test('at 1440 px the terminal is wide enough for docker ps in lesson 7', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await startSandbox(page);
  // Lesson 7's containers before its `docker ps`: an nginx, a loop, a shell.
  await typeLine(
    page,
    "docker create --name first nginx >/dev/null && docker start first >/dev/null && docker run -d --name clock busybox sh -c 'while true; do date; sleep 2; done' >/dev/null && docker run -dit --name box busybox sh >/dev/null && sleep 2 && clear",
  );
  await typeLine(
    page,
    `echo "cols=$(stty size | cut -d' ' -f2) widest=$(docker ps | awk '{ print length }' | sort -n | tail -1)"`,
  );
  const seen = terminal(page).filter({ hasText: /cols=\d+ widest=\d+/ });
  await expect(seen).toHaveCount(1, { timeout: 60_000 });
  const [, cols, widest] = /cols=(\d+) widest=(\d+)/.exec((await seen.textContent())!)!.map(Number);
  expect(widest).toBeGreaterThan(80);
  // 105: the widest it gets once the containers are a minute old ("About a minute ago", "Up About a minute").
  expect(cols).toBeGreaterThanOrEqual(Math.max(widest!, 105));
  await typeLine(page, 'docker ps');
  await expect(terminal(page)).toContainText('NAMES', { timeout: 15_000 });
  await page.screenshot({ path: shot('terminal-docker-ps-1440') });
});
