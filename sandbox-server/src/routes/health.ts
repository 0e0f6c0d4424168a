// Health: /api/health (engine version), /livez (the process answers), /readyz (it can serve learners).
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine/engine.ts';
import { ApiError } from '../errors.ts';
import type { SessionManager } from '../sessions/session-manager.ts';

export function healthRoutes(
  app: FastifyInstance,
  engine: Engine,
  sessions?: SessionManager,
  store?: { ping(): Promise<void> },
): void {
  const engineInfo = async () => {
    try {
      return await engine.info();
    } catch (err) {
      throw new ApiError('ENGINE_UNREACHABLE', (err as Error).message);
    }
  };

  app.get('/api/health', async () => ({ status: 'ok', engine: await engineInfo() }));

  app.get('/livez', async () => ({ status: 'ok' }));

  // Not ready without the database either (a replica cut off from PostgreSQL gets no learners),
  // while /livez still answers: the process is fine and comes back by itself.
  app.get('/readyz', async () => {
    await store?.ping().catch((err: unknown) => {
      throw new ApiError('STORE_UNREACHABLE', err instanceof Error ? err.message : String(err));
    });
    const info = await engineInfo();
    const stats = sessions?.stats();
    return { status: 'ok', engine: info, ...(stats ? { sandboxes: stats } : {}) };
  });
}
