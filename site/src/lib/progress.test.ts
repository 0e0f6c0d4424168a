import { describe, expect, it } from 'vitest';
import { resumeAt, type ProgressEntry, type WrittenLesson } from './progress.ts';

const lessons: WrittenLesson[] = [
  { slug: 'the-problem', title: 'The problem Docker solves', exercises: ['hello-exited'] },
  { slug: 'container-lifecycle', title: 'The container lifecycle', exercises: ['restarted-web'] },
  { slug: 'first-dockerfile', title: 'A first Dockerfile', exercises: ['hello-app'] },
];
const entry = (exercise: string, lesson: string, passed: boolean, updatedAt: number): ProgressEntry => ({
  exercise,
  lesson,
  passed,
  updatedAt,
  bestScore: 0,
  maxScore: 1,
  attempts: 1,
  lastCompletedAt: passed ? updatedAt : null,
});

describe('resumeAt', () => {
  it('sends a newcomer nowhere in particular (the page starts them at the first lesson)', () => {
    expect(resumeAt(lessons, [])).toBeUndefined();
  });

  it('goes back to a lesson not finished, or on to the next one not done', () => {
    expect(resumeAt(lessons, [entry('restarted-web', 'container-lifecycle', false, 5)])?.slug).toBe(
      'container-lifecycle',
    );
    expect(resumeAt(lessons, [entry('restarted-web', 'container-lifecycle', true, 5)])?.slug).toBe('first-dockerfile');
    const all = [
      entry('hello-exited', 'the-problem', true, 1),
      entry('restarted-web', 'container-lifecycle', true, 2),
      entry('hello-app', 'first-dockerfile', true, 3),
    ];
    expect(resumeAt(lessons, all)).toBeUndefined();
  });
});
