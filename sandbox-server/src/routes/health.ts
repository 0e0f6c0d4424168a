// GET /api/health: the server is up and the Docker Engine answers.
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { ApiError } from '../errors.ts';

export function healthRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/api/health', async () => {
    try {
      const info = await engine.info();
      return { status: 'ok', engine: info };
    } catch (err) {
      throw new ApiError('ENGINE_UNREACHABLE', (err as Error).message);
    }
  });
}
