// Shared steps of the workspace specs: open a lesson, start its sandbox, type in the terminal.
import { expect, test, type Page } from '@playwright/test';

/** The rows of the terminal on show. */
export const terminal = (page: Page) => page.locator('.term:not([hidden]) .xterm-rows');

/**
 * Prints what went wrong in the page (its errors, failed requests), timed, into the test's output:
 * a start that never came shows there why.
 */
export function reportPageTrouble(page: Page): void {
  const t0 = Date.now();
  const say = (what: string) => console.log(`[page +${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
  page.on('pageerror', (err) => say(`error: ${err.message}`));
  page.on('console', (m) => void (m.type() === 'error' && say(`console: ${m.text()}`)));
  page.on('requestfailed', (r) => say(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
}

/** In a test, gives it at least `ms` in all; in a script (e2e/scripts/) there is no test to time. */
function allowAtLeast(ms: number): void {
  let info;
  try {
    info = test.info();
  } catch {
    return;
  }
  info.setTimeout(Math.max(info.timeout, ms));
}

/** Opens a lesson and starts its sandbox; resolves once the first shell has printed its welcome. */
export async function startSandbox(page: Page, lesson = 'container-lifecycle'): Promise<void> {
  await page.goto(`/lessons/${lesson}`);
  await pressStart(page);
}

/** Presses Start on the page open; resolves once the first shell has printed its welcome. */
export async function pressStart(page: Page): Promise<void> {
  reportPageTrouble(page);
  // A sandbox made while the other test tiers load this machine can take far longer than its usual
  // second (the bench measures that, not this): room for it, beyond the test's own steps.
  allowAtLeast(120_000);
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 60_000 });
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 15_000 });
}

/** Clicks into the terminal on show and types a line, then Enter. */
export async function typeLine(page: Page, line: string): Promise<void> {
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}
