import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { registerOpsRoutes } from './ops.js';

export interface HttpDeps {
  logger: Logger;
  redis: Redis;
}

/**
 * The HTTP role: the operators' endpoints (/healthz, /metrics, see ./ops.ts). Built apart from
 * listen() so tests use inject().
 */
export function buildHttp({ logger, redis }: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger.child({ stage: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerOpsRoutes(app, redis);
  return app;
}
