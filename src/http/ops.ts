import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { registry } from '../metrics.js';

/**
 * The operators' endpoints every process serves: liveness with a Redis check (a load balancer takes
 * a node with no Redis out of rotation, since its SMTP door would only answer 451) and this process's
 * Prometheus metrics. The HTTP role has them on its port; an SMTP door or a worker run apart listens
 * on its own ops port, so a split deployment can be scraped process by process.
 */
export function registerOpsRoutes(app: FastifyInstance, redis: Redis): void {
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
}

/** A server with the ops endpoints only, for an SMTP door or a worker run apart. Built apart from listen(). */
export function buildOps({ logger, redis }: { logger: Logger; redis: Redis }): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger.child({ stage: 'ops' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerOpsRoutes(app, redis);
  return app;
}
