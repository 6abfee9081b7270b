import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildHttp } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { smtpReplies } from '../../src/metrics.js';

describe('operators HTTP', () => {
  const logger = createLogger('silent');
  const up = new Redis('redis://127.0.0.1:6379');
  const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  down.on('error', () => undefined);
  afterAll(() => {
    up.disconnect();
    down.disconnect();
  });

  it('healthz is 200 with Redis and 503 without', async () => {
    expect((await buildHttp({ logger, redis: up }).inject({ url: '/healthz' })).statusCode).toBe(200);
    const res = await buildHttp({ logger, redis: down }).inject({ url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'redis-unavailable' });
  });

  it('serves Prometheus metrics including casedrop series', async () => {
    smtpReplies.inc({ reason: 'accepted', code: '250' });
    const res = await buildHttp({ logger, redis: up }).inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/casedrop_smtp_replies_total\{reason="accepted",code="250"\} \d+/);
  });
});
