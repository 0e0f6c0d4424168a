// A learner's progress: what they passed and tried, kept in the store across restarts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.ts';

export function progressRoutes(
  app: FastifyInstance,
  store: Store,
  ownerOf: (req: FastifyRequest, reply: FastifyReply) => Promise<string>,
): void {
  app.get('/api/progress', async (req, reply) => {
    const progress = await store.progressOf(await ownerOf(req, reply));
    return {
      progress: progress.map((p) => ({
        exercise: p.exerciseId,
        lesson: p.lesson,
        bestScore: p.bestScore,
        maxScore: p.maxScore,
        attempts: p.attempts,
        passed: p.firstCompletedAt !== null,
        firstCompletedAt: p.firstCompletedAt,
        lastCompletedAt: p.lastCompletedAt,
        updatedAt: p.updatedAt,
      })),
    };
  });
}
