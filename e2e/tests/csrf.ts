// The CSRF header the site sends with every change, for tests that call the API from a page's
// context directly (its cookies go along, so the server asks for the token too).
import type { Page } from '@playwright/test';

export async function csrf(page: Page): Promise<Record<string, string>> {
  const read = async () => (await page.context().cookies()).find((c) => c.name === 'dockyard_csrf')?.value;
  let token = await read();
  if (!token) {
    await page.request.get('/api/me');
    token = await read();
  }
  if (!token) throw new Error('the server set no dockyard_csrf cookie');
  return { 'x-csrf-token': decodeURIComponent(token) };
}
