// A learner's standing in the course: exercises grouped by lesson in outline order, first passes.
import { describe, expect, it } from 'vitest';
import { courseStanding } from './standing.ts';

const outline = [
  {
    slug: 'm1',
    title: 'One',
    summary: 'First module',
    lessons: [
      { slug: 'b', title: 'B' },
      { slug: 'quiz', title: 'Quiz' },
    ],
  },
  { slug: 'm2', title: 'Two', summary: 'Second module', lessons: [{ slug: 'a', title: 'A' }] },
];
// In id order, as the grader lists them; the page shows them in the course's.
const exercises = [
  { id: 'a-1', lesson: 'a', title: 'Do A' },
  { id: 'b-1', lesson: 'b', title: 'Do B' },
];

describe('courseStanding', () => {
  it('lists the exercises by lesson in course order, leaving out lessons without any', () => {
    const s = courseStanding(outline, exercises, []);
    expect(s.lessons).toEqual([
      { slug: 'b', title: 'B', module: 'One', exercises: [{ id: 'b-1', title: 'Do B', passedAt: null }] },
      { slug: 'a', title: 'A', module: 'Two', exercises: [{ id: 'a-1', title: 'Do A', passedAt: null }] },
    ]);
    expect(s).toMatchObject({ exercises: 2, passed: 0, complete: false, completedAt: null });
  });

  it('counts first passes only, ignores exercises the course no longer has, and completes at the last one', () => {
    const attempted = [
      { exerciseId: 'b-1', firstCompletedAt: 2000 },
      { exerciseId: 'a-1', firstCompletedAt: null },
      { exerciseId: 'gone', firstCompletedAt: 1000 },
    ];
    expect(courseStanding(outline, exercises, attempted)).toMatchObject({
      passed: 1,
      complete: false,
      completedAt: null,
    });
    const all = courseStanding(outline, exercises, [
      ...attempted.slice(0, 1),
      { exerciseId: 'a-1', firstCompletedAt: 5000 },
    ]);
    expect(all).toMatchObject({ exercises: 2, passed: 2, complete: true, completedAt: 5000 });
    expect(all.lessons.map((l) => l.exercises[0]!.passedAt)).toEqual([2000, 5000]);
  });

  it('never calls a course without exercises complete', () => {
    expect(courseStanding(outline, [], [])).toMatchObject({ exercises: 0, complete: false, lessons: [] });
  });
});
