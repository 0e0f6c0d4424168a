// Live grading on the fake driver: a pass is kept in the store before its report is pushed.
import { exerciseSchema } from '@dockyard/content';
import { expect, it } from 'vitest';
import { EngineEvents } from '../sessions/engine-events.ts';
import { fakeSessions } from '../test-support/fake-sessions.ts';
import { Grading } from './grading.ts';

const exercise = exerciseSchema.parse({
  id: 'one-check',
  lesson: 'architecture',
  title: 'One command check',
  solution: 'true',
  checks: [{ id: 'ok', kind: 'command', title: 'It runs', why: 'A fake driver runs no typed checks.', run: 'true' }],
});

it('keeps a live pass before pushing it, so a page asking for progress on seeing it finds it', async () => {
  const { driver, sessions } = fakeSessions();
  driver.onExec = () => ({ exitCode: 0, stdout: '', stderr: '' });
  const { session } = await sessions.create('ada');
  const order: string[] = [];
  const grading = new Grading({
    driver,
    sessions,
    events: new EngineEvents(driver, sessions),
    exercises: [exercise],
    // A store that takes its time.
    record: async (_id, _exercise, report) => {
      await new Promise((r) => setTimeout(r, 50));
      order.push(`kept ${report.passed ? 'pass' : 'fail'}`);
    },
  });
  const shown = new Promise<void>((resolve) => {
    const stop = grading.watch(session.id, exercise.id, (report) => {
      order.push(`shown ${report.passed ? 'pass' : 'fail'}`);
      stop();
      resolve();
    });
  });
  await shown;
  expect(order).toEqual(['kept pass', 'shown pass']);
});
