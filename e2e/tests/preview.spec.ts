// Port previews in Chromium: a learner publishes nginx from their terminal and opens it on its own
// preview origin; the same address without the grant is refused.
import { shot } from './shots.ts';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { csrf } from './csrf.ts';

/**
 * As the lesson page will: open the session's WebSocket from the platform's origin, type a command
 * into a terminal, and wait until the port list shows `port`.
 */
async function publishFromTerminal(page: Page, sessionId: string, command: string, port: number): Promise<void> {
  const ticket = await page.request.post(`/api/sessions/${sessionId}/ticket`, { data: {}, headers: await csrf(page) });
  const { url } = (await ticket.json()) as { url: string };
  await page.evaluate(
    ({ url, command, port }) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url);
        const timer = setTimeout(() => reject(new Error(`port ${port} never showed up`)), 60_000);
        ws.onmessage = (e) => {
          const msg = JSON.parse(String(e.data)) as {
            type: string;
            term?: string;
            data?: string;
            ports?: Array<{ port: number }>;
          };
          if (msg.type === 'opened') ws.send(JSON.stringify({ type: 'input', term: 't1', data: `${command}\r` }));
          if (msg.type === 'output') ws.send(JSON.stringify({ type: 'ack', term: 't1', bytes: msg.data!.length }));
          if (msg.type === 'ports' && msg.ports!.some((p) => p.port === port)) {
            clearTimeout(timer);
            ws.close();
            resolve();
          }
        };
        ws.onopen = () => ws.send(JSON.stringify({ type: 'open', term: 't1', cols: 100, rows: 30 }));
        ws.onerror = () => reject(new Error('WebSocket failed'));
      }),
    { url: new URL(url, page.url()).toString().replace(/^http/, 'ws'), command, port },
  );
}

test('a published port is viewable through its preview URL, and refused without the grant', async ({
  page,
  browser,
}) => {
  await page.goto('/');
  const created = await page.request.post('/api/sessions', { data: {}, headers: await csrf(page) });
  expect(created.status()).toBe(201);
  const { session } = (await created.json()) as { session: { id: string } };

  await publishFromTerminal(page, session.id, 'docker run -d -p 8080:80 nginx', 8080);

  const grant = await page.request.post(`/api/sessions/${session.id}/previews`, {
    data: { port: 8080 },
    headers: await csrf(page),
  });
  const { url } = (await grant.json()) as { url: string };
  const preview = new URL(url);
  expect(preview.hostname).toBe(`p8080-${session.id}.localhost`);
  expect(preview.origin).not.toBe(new URL(page.url()).origin);

  const tab = await page.context().newPage();
  await expect(async () => {
    await tab.goto(url);
    await expect(tab.getByRole('heading', { name: 'Welcome to nginx!' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  expect(new URL(tab.url()).search).toBe('');
  await tab.screenshot({ path: shot('preview-granted') });

  // Someone else (another browser profile) opening the very same address gets the refusal page.
  const stranger = await browser.newContext();
  const other = await stranger.newPage();
  const refused = await other.goto(tab.url());
  expect(refused?.status()).toBe(403);
  await expect(other.getByRole('heading', { name: 'This preview is private' })).toBeVisible();
  await expect(other.getByText('Welcome to nginx!')).toHaveCount(0);
  await other.screenshot({ path: shot('preview-refused') });
  await stranger.close();

  await page.request.delete(`/api/sessions/${session.id}`, { headers: await csrf(page) });
});
