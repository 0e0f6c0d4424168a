// Builds the Fastify app from its parts; main.ts gives it real ones, tests give it fakes.
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Engine } from './engine/engine.ts';
import { ApiError } from './errors.ts';
import { healthRoutes } from './routes/health.ts';

export interface AppDeps {
  config: Config;
  engine: Engine;
}

export async function buildApp({ config, engine }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.logLevel } });

  app.setErrorHandler((err, req, reply) => {
    const apiError = err instanceof ApiError ? err : new ApiError('INTERNAL');
    if (!(err instanceof ApiError)) req.log.error({ err }, 'unhandled error');
    return reply.status(apiError.status).send(apiError.toBody());
  });

  healthRoutes(app, engine);

  if (existsSync(config.siteDir)) {
    await app.register(fastifyStatic, { root: config.siteDir, wildcard: false, index: ['index.html'] });
  } else {
    app.log.warn({ siteDir: config.siteDir }, 'no built site here: build it with `npm run build -w site`');
  }

  app.setNotFoundHandler((req, reply) => {
    const notFound = new ApiError('NOT_FOUND', `No route for ${req.method} ${req.url}`);
    const page = `${config.siteDir}/404.html`;
    if (!req.url.startsWith('/api/') && req.method === 'GET' && existsSync(page)) {
      return reply.status(404).type('text/html').sendFile('404.html');
    }
    return reply.status(404).send(notFound.toBody());
  });

  return app;
}
