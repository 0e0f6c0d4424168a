// Three vitest tiers: unit (no Docker), int (*.int.test.ts, needs a real Docker Engine) and swarm
// (*.swarm.test.ts: three more engines on this machine, as the nodes of a Swarm).
import { defineConfig } from 'vitest/config';

const exclude = ['**/node_modules/**', '**/dist/**', 'e2e/**'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts', '**/*.swarm.test.ts'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude,
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Sandboxes are heavy on a 2-core machine: one file at a time, and at most three concurrent
          // tests in a file that asks for them (the lessons, each in a sandbox of its own).
          fileParallelism: false,
          maxConcurrency: 3,
        },
      },
      {
        test: {
          name: 'swarm',
          include: ['**/*.swarm.test.ts'],
          exclude,
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // One Swarm of three engines at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
