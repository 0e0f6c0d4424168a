// Shared steps of the workspace specs: open a lesson, start its sandbox, type in the terminal.
import { expect, type Page } from '@playwright/test';

/** The rows of the terminal on show. */
export const terminal = (page: Page) => page.locator('.term:not([hidden]) .xterm-rows');

/** Opens a lesson and starts its sandbox; resolves once the first shell has printed its welcome. */
export async function startSandbox(page: Page, lesson = 'container-lifecycle'): Promise<void> {
  await page.goto(`/lessons/${lesson}`);
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 15_000 });
}

/** Clicks into the terminal on show and types a line, then Enter. */
export async function typeLine(page: Page, line: string): Promise<void> {
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}
