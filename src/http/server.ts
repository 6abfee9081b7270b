import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { registry } from '../metrics.js';

export interface HttpDeps {
  logger: Logger;
  redis: Redis;
}

/**
 * The operators' HTTP side: liveness with a Redis check (a load balancer takes a node with no
 * Redis out of rotation, since its SMTP door would only answer 451) and Prometheus metrics.
 * Built apart from listen() so tests use inject().
 */
export function buildHttp({ logger, redis }: HttpDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: logger.child({ stage: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async (_req, reply) => {
    try {
      await redis.ping();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'redis-unavailable' });
    }
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return app;
}
