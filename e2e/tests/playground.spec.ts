// The playground, on a server of the test's own (its sandboxes count against no other spec's hourly
// limit): one session through every step. Two nodes added, each with its own terminal (hostname,
// ping by name); the map of each; screenshots with 3 nodes, desktop and phone, light and dark; the
// Swarm template "1 manager + 2 workers" over them with its progress shown (docker node ls: 3
// Ready); the node limit refused with its title and hint; a node removed after confirming; the
// admin page and a workshop's dashboard counting the nodes; an example opened with ?example=, and
// an unknown one; a reset back to node1 alone. And the Swarm lesson, whose frontmatter asks for 3
// nodes in a swarm: the page forms it, and its Run buttons type on node1.
import { pressStart, terminal } from './sandbox.ts';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { ownServer } from '../server.ts';
import { seriousViolations } from './axe.ts';
import { csrf } from './csrf.ts';
import { shot } from './shots.ts';

const server = ownServer(18090, 18091, { DOCKYARD_ADMINS: 'root' });
test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

/** An example of the test's own, added to whatever /playground/examples.json lists. */
const EXAMPLE = {
  id: 'e2e-hello',
  lesson: 'container-lifecycle',
  title: 'Container lifecycle',
  file: 'hello/hello.sh',
  content: 'echo "hello from the $((6 * 7)) example"\n',
  run: 'sh hello/hello.sh',
};

async function withExample(page: Page): Promise<void> {
  await page.route('**/playground/examples.json', async (route) => {
    const res = await route.fetch().catch(() => undefined);
    const listed: unknown = res?.ok() ? await res.json() : [];
    await route.fulfill({ json: [...(Array.isArray(listed) ? listed : []), EXAMPLE] });
  });
}

const nodesStatus = (page: Page) => page.locator('[data-nodes-status]');

async function typeIn(page: Page, line: string): Promise<void> {
  await page.locator('.term:not([hidden]) .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** Adds a node with the button (by keyboard); its terminal opens, selected, at its prompt. */
async function addNode(page: Page, node: string): Promise<void> {
  await page.getByRole('button', { name: 'Add node' }).focus();
  await page.keyboard.press('Enter');
  await expect(nodesStatus(page)).toContainText(`${node} is ready`, { timeout: 60_000 });
  await expect(page.getByRole('tab', { name: `${node} · 1` })).toHaveAttribute('aria-selected', 'true');
  await expect(terminal(page)).toContainText(`${node}:~/work#`, { timeout: 15_000 });
}

test('the playground: nodes, their terminals and maps, a Swarm template, the node limit, an example', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const page = await (
    await browser.newContext({ baseURL: server.url, viewport: { width: 1440, height: 900 } })
  ).newPage();
  await withExample(page);

  // From the header to the playground; its workspace names node1 even alone.
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Playground' }).click();
  // Loaded, scripts and all: a click before the page's script runs would do nothing.
  await page.waitForURL('/playground/', { waitUntil: 'load' });
  await expect(page.getByRole('heading', { name: 'Playground', level: 1 })).toBeVisible();
  expect(await seriousViolations(page), 'before the start').toEqual([]);
  await pressStart(page);
  await expect(page.getByRole('list', { name: 'Nodes' }).getByRole('button', { name: 'node1' })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'node1 · 1' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Remove node1' })).toHaveCount(0);

  // Two nodes: each answers to its own name and reaches node1 by name.
  await addNode(page, 'node2');
  await typeIn(page, 'hostname');
  await expect(terminal(page)).toContainText(/hostname\s*node2/, { timeout: 15_000 });
  await addNode(page, 'node3');
  await typeIn(page, 'hostname; ping -c1 -W5 node1');
  await expect(terminal(page)).toContainText(/ping -c1 -W5 node1\s*node3/, { timeout: 15_000 });
  await expect(terminal(page)).toContainText('1 received, 0% packet loss', { timeout: 15_000 });
  await expect(page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab')).toHaveText([
    /node1 · 1/,
    /node2 · 1/,
    /node3 · 1/,
  ]);

  // Each node has its own map: a container on node2 shows on node2's only.
  await page.getByRole('button', { name: 'node2', exact: true }).click();
  await typeIn(page, 'docker network create only-on-node2');
  await expect(terminal(page)).toContainText(/only-on-node2\s*[0-9a-f]{12}/, { timeout: 15_000 });
  await page.getByRole('tab', { name: 'Sandbox map' }).click();
  const switcher = page.getByRole('group', { name: 'Whose map' });
  await expect(switcher.getByRole('button')).toHaveText(['node1', 'node2', 'node3']);
  await expect(page.locator('[data-network="only-on-node2"]')).toHaveCount(0);
  await switcher.getByRole('button', { name: 'node2' }).click();
  await expect(page.getByRole('heading', { name: 'Map of node2' })).toBeVisible();
  await expect(page.locator('[data-network="only-on-node2"]')).toBeVisible({ timeout: 15_000 });
  await expect(switcher.getByRole('button', { name: 'node2' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('tab', { name: 'Terminal', exact: true }).click();

  // Three nodes, desktop and phone, light and dark: looked at, and axe finds nothing serious.
  for (const [width, height, size] of [
    [1440, 900, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    await page.setViewportSize({ width, height });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.getByRole('tab', { name: 'node1 · 1' }).click();
      await page.screenshot({ path: shot(`playground-3-nodes-${size}-${scheme}`) });
      expect(await seriousViolations(page), `${size} ${scheme}`).toEqual([]);
    }
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });

  // The Swarm template over the three nodes: each step shown as it runs, then 3 Ready nodes.
  // Every text the status shows while the template runs (a string: the e2e code has no DOM types).
  await page.evaluate(`{
    const el = document.querySelector('[data-nodes-status]');
    window.seen = [];
    new MutationObserver(() => window.seen.push(el.textContent)).observe(el, { childList: true, characterData: true });
  }`);
  await page.getByRole('button', { name: '1 manager + 2 workers' }).click();
  await expect(page.getByRole('button', { name: 'Add node' })).toBeDisabled();
  await expect(nodesStatus(page)).toContainText('Your Swarm is ready: 1 manager + 2 workers', { timeout: 90_000 });
  const seen = (await page.evaluate('window.seen')) as string[];
  expect(seen.filter((s) => /^Step \d+ of \d+: /.test(s)).length, seen.join('\n')).toBeGreaterThan(1);
  await expect(page.getByRole('tab', { name: 'node1 · 1' })).toHaveAttribute('aria-selected', 'true');
  await typeIn(page, 'docker node ls');
  await expect
    .poll(async () => ((await terminal(page).textContent()) ?? '').match(/\bReady\b/g)?.length ?? 0, {
      timeout: 15_000,
    })
    .toBe(3);
  await page.screenshot({ path: shot('playground-swarm') });

  // Up to five nodes; a sixth is refused with the error's title and hint.
  await addNode(page, 'node4');
  await addNode(page, 'node5');
  await page.getByRole('button', { name: 'Add node' }).click();
  await expect(nodesStatus(page)).toContainText('This session already has as many nodes as it may', {
    timeout: 15_000,
  });
  await expect(nodesStatus(page)).toContainText('Remove a node you no longer need');

  // Removing a node asks first; No keeps it, Yes removes it and its terminal.
  page.once('dialog', (d) => void d.dismiss());
  await page.getByRole('button', { name: 'Remove node5' }).click();
  await expect(page.getByRole('tab', { name: 'node5 · 1' })).toBeVisible();
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Remove node5' }).click();
  await expect(nodesStatus(page)).toContainText('node5 was removed', { timeout: 30_000 });
  await expect(page.getByRole('tab', { name: 'node5 · 1' })).toHaveCount(0);
  await expect(page.getByRole('list', { name: 'Nodes' }).getByRole('listitem')).toHaveCount(4);

  // The admin sees the session's nodes (signing up keeps the guest's session).
  await page.goto('/account/');
  await page.locator('#signup-username').fill('root');
  await page.locator('#signup-display-name').fill('Root');
  await page.locator('#signup-password').fill('root has a long password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in' })).toBeVisible();
  await page.goto('/admin/');
  await expect(page.locator('[data-sessions] [data-nodes="4"]')).toHaveText('4 (node1, node2, node3, node4)');

  // So does an instructor's dashboard, for a learner in their workshop (here the admin themself).
  const headers = await csrf(page);
  const created = await page.request.post('/api/workshops', {
    headers,
    data: {
      title: 'Swarm day',
      lessons: ['swarm'],
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      seatLimit: 5,
    },
  });
  expect(created.status()).toBe(201);
  const { workshop } = (await created.json()) as { workshop: { id: string; code: string } };
  expect((await page.request.post(`/api/workshops/join/${workshop.code}`, { headers, data: {} })).ok()).toBe(true);
  await page.goto(`/workshops/live/?id=${workshop.id}`);
  await expect(page.locator('tr[data-learner-row] .state')).toHaveText('Online · 4 nodes', { timeout: 15_000 });

  // The site's own list has the shape the playground reads.
  const listed = (await (await page.request.get('/playground/examples.json')).json()) as Record<string, unknown>[];
  for (const e of listed) {
    // `files` (the build context) only for examples that have one.
    const keys = Object.keys(e).filter((k) => k !== 'files');
    expect(keys.sort(), String(e.id)).toEqual(['content', 'file', 'id', 'lesson', 'run', 'title']);
  }

  // An example: its file written and opened in the editor, its command run in a node1 terminal.
  await page.goto(`/playground/?example=${EXAMPLE.id}`);
  // In a folder of its own: the learner's files in ~/work stay as they are.
  await expect(page.locator('[data-example-note]')).toContainText(
    `is in ~/work/examples/${EXAMPLE.id}/${EXAMPLE.file}, open in the editor`,
    {
      timeout: 30_000,
    },
  );
  await expect(terminal(page)).toContainText('hello from the 42 example', { timeout: 15_000 });
  await expect(page.getByRole('tab', { name: 'node1 · 1' })).toHaveAttribute('aria-selected', 'true');
  await page.getByRole('tab', { name: 'Editor' }).click();
  await expect(page.locator('[data-editor] [data-title]')).toHaveText(`examples/${EXAMPLE.id}/${EXAMPLE.file}`);
  await expect(page.locator('[data-editor] [data-where]')).toHaveText('node1:~/work');
  await expect(page.locator('[data-editor] .view-lines')).toContainText('hello from the');
  await expect(page.locator('[data-example-note]').getByRole('link', { name: EXAMPLE.title })).toHaveAttribute(
    'href',
    `/lessons/${EXAMPLE.lesson}`,
  );

  // An id nobody knows says so plainly.
  await page.goto('/playground/?example=no-such-example');
  await expect(page.locator('[data-example-note]')).toContainText('There is no example “no-such-example”');
  await expect(page.getByRole('link', { name: 'Open the playground without one' })).toHaveAttribute(
    'href',
    '/playground/',
  );

  // A reset starts over with node1 alone: the other nodes' tabs close.
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab')).toHaveCount(4);
  page.once('dialog', (d) => void d.accept());
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByRole('list', { name: 'Nodes' }).getByRole('listitem')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab')).toHaveText([/node1 · 1/]);
  await expect(terminal(page)).toContainText('Dockyard sandbox', { timeout: 30_000 });
});

test('a lesson with nodes and a template forms its Swarm, and its Run buttons type on node1', async ({ browser }) => {
  test.setTimeout(180_000);
  const page = await (
    await browser.newContext({ baseURL: server.url, viewport: { width: 1440, height: 900 } })
  ).newPage();
  await page.goto('/lessons/swarm');
  await page.getByRole('button', { name: 'Start my sandbox' }).click();
  // The steps show while node1 is still alone (the bar would otherwise wait for a second node).
  await expect(page.locator('[data-nodes-bar]:not([hidden]) [data-nodes-status]')).toContainText(/Step \d+ of \d+: /, {
    timeout: 60_000,
  });
  await expect(nodesStatus(page)).toContainText('Your Swarm is ready: 1 manager + 2 workers', { timeout: 90_000 });
  await expect(page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab')).toHaveText([
    /node1 · 1/,
    /node2 · 1/,
    /node3 · 1/,
  ]);
  await page.getByRole('tab', { name: 'node3 · 1' }).click();
  await page.locator('[data-run="docker node ls"]').first().click();
  await expect(page.getByRole('tab', { name: 'node1 · 1' })).toHaveAttribute('aria-selected', 'true');
  await expect
    .poll(async () => ((await terminal(page).textContent()) ?? '').match(/\bReady\b/g)?.length ?? 0, {
      timeout: 15_000,
    })
    .toBe(3);

  // A reload finds the swarm formed: nothing is formed again.
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: 'Sandbox ready' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab')).toHaveCount(3);
  await expect(nodesStatus(page)).not.toContainText('Step');
  await page.screenshot({ path: shot('lesson-swarm-nodes') });
});
