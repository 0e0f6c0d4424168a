// A sandbox that stopped (under gVisor a sandbox at its memory or process limit stops as a whole;
// here its container is killed from outside): the page says so in words for a learner, shows it as
// a fault, keeps Reset, and Reset brings a fresh sandbox.
import { execFileSync } from 'node:child_process';
import { expect, test } from './fixtures.ts';
import { shot } from './shots.ts';
import { startSandbox, terminal } from './sandbox.ts';

test('a sandbox that stopped says so, and Reset brings a fresh one', async ({ page }) => {
  test.setTimeout(120_000);
  await startSandbox(page);
  const { sessions } = await page.evaluate(
    async () => (await (await fetch('/api/sessions')).json()) as { sessions: { id: string }[] },
  );
  const names = execFileSync('docker', [
    'ps',
    '--filter',
    `label=org.dockyard.session=${sessions[0]!.id}`,
    '--format',
    '{{.Names}}',
  ])
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean);
  expect(names).toHaveLength(1);
  execFileSync('docker', ['kill', names[0]!]);

  // The shell went with it; a new terminal cannot start, and the page says why and what to do.
  await page.getByRole('button', { name: 'Open a terminal' }).click({ timeout: 15_000 });
  const status = page.getByRole('status').filter({ hasText: 'Your sandbox has stopped. Press Reset' });
  await expect(status).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('[data-state="offline"]')).toHaveCount(1);
  await page.screenshot({ path: shot('stopped-1-told') });

  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 15_000 });
});
