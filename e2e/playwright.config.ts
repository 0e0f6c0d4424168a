// Playwright runs the e2e tests in Debian's Chromium against a real server started for the run.
import { defineConfig } from '@playwright/test';
import { E2E_DATA_PREFIX } from './cleanup.ts';
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = 18080;
export const previewPort = 18081;

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 60_000,
  workers: 1,
  // Sandboxes the e2e server's learners leave behind (also after a killed run) are removed.
  globalSetup: './cleanup.ts',
  globalTeardown: './cleanup.ts',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      // The machine has no internet: keep Chromium from trying to phone home.
      args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: `node ${join(root, 'sandbox-server/src/main.ts')}`,
    url: `http://127.0.0.1:${port}/api/health`,
    timeout: 30_000,
    reuseExistingServer: false,
    // No warm pool, and a data dir of this run's own: the test server leaves nothing behind.
    env: {
      DOCKYARD_PORT: String(port),
      DOCKYARD_PREVIEW_PORT: String(previewPort),
      DOCKYARD_LOG_LEVEL: 'warn',
      DOCKYARD_WARM_POOL_SIZE: '0',
      DOCKYARD_DATA_DIR: mkdtempSync(E2E_DATA_PREFIX),
    },
  },
});
