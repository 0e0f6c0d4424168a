// Health: /api/health (engine version), /livez (the process answers), /readyz (it can serve learners).
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { ApiError } from '../errors.ts';
import type { SessionManager } from '../sessions/session-manager.ts';

export function healthRoutes(app: FastifyInstance, engine: Engine, sessions?: SessionManager): void {
  const engineInfo = async () => {
    try {
      return await engine.info();
    } catch (err) {
      throw new ApiError('ENGINE_UNREACHABLE', (err as Error).message);
    }
  };

  app.get('/api/health', async () => ({ status: 'ok', engine: await engineInfo() }));

  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    const info = await engineInfo();
    const stats = sessions?.stats();
    return { status: 'ok', engine: info, ...(stats ? { sandboxes: stats } : {}) };
  });
}
