// The exercises the server grades, as the site shows them: titles and checks, never the solution.
import type { Exercise } from '@dockyard/content';
import type { FastifyInstance } from 'fastify';
import type { Grading } from '../grader/grading.ts';

/** What a learner may see of an exercise: the goal and the checks, not how to pass them. */
export const publicExercise = (e: Exercise) => ({
  id: e.id,
  lesson: e.lesson,
  title: e.title,
  starterFiles: Object.keys(e.starter.files),
  checks: e.checks.map((c) => ({ id: c.id, kind: c.kind, title: c.title, points: c.points })),
});

export function exerciseRoutes(app: FastifyInstance, grading: Grading): void {
  app.get('/api/exercises', async () => ({ exercises: grading.list().map(publicExercise) }));
  app.get<{ Params: { id: string } }>('/api/exercises/:id', async (req) => ({
    exercise: publicExercise(grading.exercise(req.params.id)),
  }));
}
