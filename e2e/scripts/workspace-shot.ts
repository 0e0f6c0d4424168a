// The home page's picture of the workspace, taken in Chromium against a running server: lesson 7
// with both of its checks green beside a terminal showing docker ps, in light and dark, saved as
// WebP in site/public/ (Chromium's own encoder, so nothing else is needed).
//   node e2e/scripts/workspace-shot.ts [base URL, default http://127.0.0.1:8080]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, expect, type Page } from '@playwright/test';
import { csrf } from '../tests/csrf.ts';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const out = (name: string) => fileURLToPath(new URL(`../../site/public/${name}`, import.meta.url));
// Small enough that its text stays readable in the home page's hero; the site's header is cut off.
const WIDTH = 1024;
const HEIGHT = 680;
const HEADER = 57;

async function shoot(page: Page, file: string): Promise<void> {
  const png = (await page.screenshot({ clip: { x: 0, y: HEADER, width: WIDTH, height: HEIGHT - HEADER } })).toString(
    'base64',
  );
  // Encoded in the page: a canvas gives WebP at the quality asked for.
  const dataUrl = await page.evaluate<string>(`(async () => {
    const img = new Image();
    img.src = 'data:image/png;base64,${png}';
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    canvas.getContext('2d').drawImage(img, 0, 0);
    return canvas.toDataURL('image/webp', 0.82);
  })()`);
  const bytes = Buffer.from(dataUrl.split(',')[1]!, 'base64');
  writeFileSync(out(file), bytes);
  console.log(`${file}: ${(bytes.length / 1024).toFixed(0)} kB`);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
for (const [scheme, file] of [
  ['light', 'workspace.webp'],
  ['dark', 'workspace-dark.webp'],
] as const) {
  const context = await browser.newContext({ viewport: { width: WIDTH, height: HEIGHT }, colorScheme: scheme });
  const page = await context.newPage();
  await page.goto(`${base}/lessons/container-lifecycle`);
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  await expect(page.locator('.term:not([hidden]) .xterm-rows')).toContainText('Dockyard sandbox', { timeout: 30_000 });
  const exercise = page.locator('[data-exercise="restarted-web"]');
  const rows = page.locator('.term:not([hidden]) .xterm-rows');
  const prompts = async () => ((await rows.textContent()) ?? '').split('sandbox:~/work#').length - 1;
  const type = async (line: string) => {
    await page.locator('.term:not([hidden]) .xterm').click();
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
  };
  /** Types a line and waits for the prompt after it: the picture shows each command with its output. */
  const typeAndWait = async (line: string) => {
    const before = await prompts();
    await type(line);
    await expect.poll(prompts, { timeout: 60_000 }).toBeGreaterThan(before);
  };
  // The image is pulled out of sight first, and the welcome cleared: the picture is about the lesson.
  await type('docker pull -q nginx >/dev/null; clear');
  await expect(rows).not.toContainText('Dockyard sandbox', { timeout: 60_000 });
  const ran = await prompts();
  await page.locator('[data-run="docker run -d --name web nginx"]').click();
  await expect.poll(prompts, { timeout: 60_000 }).toBeGreaterThan(ran);
  await typeAndWait('docker restart web');
  await expect(exercise.locator('[data-celebrate]')).toBeVisible({ timeout: 60_000 });
  await page.waitForTimeout(2500);
  await typeAndWait("docker ps --format 'table {{.Names}}\\t{{.Image}}\\t{{.Status}}'");
  // The lesson shows the exercise, all green, and above it the Run button that started it.
  await page.evaluate(`(() => {
    const prose = document.querySelector('.prose');
    const exercise = document.querySelector('[data-exercise="restarted-web"]');
    prose.scrollTop = exercise.offsetTop + exercise.offsetHeight - prose.clientHeight + 16;
  })()`);
  await page.mouse.move(0, HEIGHT - 1);
  await page.waitForTimeout(500);
  await shoot(page, file);
  // The sandbox is not needed any more.
  const id = await sessionId(page);
  if (id) await page.request.delete(`${base}/api/sessions/${id}`, { headers: await csrf(page) });
  await context.close();
}
await browser.close();

async function sessionId(page: Page): Promise<string | undefined> {
  const r = (await (await page.request.get(`${base}/api/sessions`)).json()) as { sessions: { id: string }[] };
  return r.sessions[0]?.id;
}
