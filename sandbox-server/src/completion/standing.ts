// Where a learner stands in the whole course: every exercise, grouped by lesson in course order,
// and when they first passed each. Computed from the store's progress, never from what a client says.
import type { CourseModule, Exercise } from '@dockyard/content';
import type { CompletedLesson, CourseStanding } from '../protocol/api.ts';
import type { Progress } from '../store/store.ts';

/** The course's exercises by lesson, in the outline's order, and the learner's first pass of each. */
export function courseStanding(
  outline: readonly CourseModule[],
  exercises: readonly Pick<Exercise, 'id' | 'lesson' | 'title'>[],
  progress: readonly Pick<Progress, 'exerciseId' | 'firstCompletedAt'>[],
): CourseStanding {
  const passedAt = new Map(progress.map((p) => [p.exerciseId, p.firstCompletedAt]));
  const lessons: CompletedLesson[] = outline.flatMap((m) =>
    m.lessons.map((l) => ({
      slug: l.slug,
      title: l.title,
      module: m.title,
      exercises: exercises
        .filter((e) => e.lesson === l.slug)
        .map((e) => ({ id: e.id, title: e.title, passedAt: passedAt.get(e.id) ?? null })),
    })),
  );
  const all = lessons.flatMap((l) => l.exercises);
  const passed = all.filter((e) => e.passedAt !== null);
  const complete = all.length > 0 && passed.length === all.length;
  return {
    exercises: all.length,
    passed: passed.length,
    complete,
    completedAt: complete ? Math.max(...passed.map((e) => e.passedAt!)) : null,
    lessons: lessons.filter((l) => l.exercises.length > 0),
  };
}
