// Page timing of the lesson pages in Chromium against a running server (npm start): navigation
// timing, first contentful paint, and the bytes transferred before the workspace opens.
//   node e2e/scripts/page-timing.ts [base URL, default http://127.0.0.1:8080] [runs, default 5]
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const runs = Number(process.argv[3] ?? 5);
const pages = ['/lessons/container-lifecycle', '/lessons/first-dockerfile', '/lessons/user-defined-networks'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
for (const path of pages) {
  const samples: Array<Record<string, number>> = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    let bytes = 0;
    page.on(
      'response',
      (r) =>
        void r
          .body()
          .then((b) => (bytes += b.length))
          .catch(() => undefined),
    );
    await page.goto(base + path, { waitUntil: 'load' });
    await page.waitForTimeout(200);
    // A string, run in the page: these tests are typed for Node, not the DOM.
    const t = await page.evaluate<Record<string, number>>(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return { interactive: nav.domInteractive, contentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, fcp: fcp ? fcp.startTime : 0 };
    })()`);
    samples.push({ ...t, kB: bytes / 1024 });
    await context.close();
  }
  const m = (k: string) => median(samples.map((s) => s[k]!)).toFixed(k === 'kB' ? 1 : 0);
  console.log(
    `${path}: domInteractive ${m('interactive')} ms, DOMContentLoaded ${m('contentLoaded')} ms, first contentful paint ${m('fcp')} ms, load ${m('load')} ms, ${m('kB')} kB transferred (uncompressed), median of ${runs}`,
  );
}
await browser.close();
