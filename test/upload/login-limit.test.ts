import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { registry as metrics } from '../../src/metrics.js';
import { createRedis } from '../../src/redis.js';
import { redisLoginLimiter } from '../../src/upload/login-limit.js';
import { testConfig } from '../helpers/env.js';

const env = testConfig();
let redis: Redis;
const lines: string[] = [];
const logger = createLogger('info', { write: (l: string) => void lines.push(l) } as unknown as NodeJS.WritableStream);

beforeAll(() => {
  redis = createRedis(env.config, 'worker');
});
afterAll(async () => {
  redis.disconnect();
  await env.cleanup();
});

describe('failed upload logins', () => {
  it('blocks an address past its threshold, with the time left, a metric and a log line', async () => {
    const limiter = redisLoginLimiter(redis, env.config.redisPrefix, { perAddress: 3, perCase: 100, windowSeconds: 600 }, logger);
    for (let i = 0; i < 2; i++) await limiter.failed('192.0.2.1', '612345678');
    expect(await limiter.blockedFor('192.0.2.1', '612345678')).toBe(0);
    await limiter.failed('192.0.2.1', '612345678');
    const wait = await limiter.blockedFor('192.0.2.1', '612345678');
    expect(wait).toBeGreaterThan(590);
    expect(wait).toBeLessThanOrEqual(600);
    expect(await limiter.blockedFor('192.0.2.2', '612345678')).toBe(0);
    expect(lines.join('')).toMatch(/"event":"upload_login_blocked".*"clientAddress":"192.0.2.1"/);
    expect(await metrics.getSingleMetricAsString('casedrop_upload_logins_blocked_total')).toMatch(/scope="address"} [1-9]/);
  });

  it('blocks a case attacked from many addresses', async () => {
    const limiter = redisLoginLimiter(redis, env.config.redisPrefix, { perAddress: 100, perCase: 5, windowSeconds: 600 }, logger);
    for (let i = 0; i < 5; i++) await limiter.failed(`198.51.100.${i}`, '699999999');
    expect(await limiter.blockedFor('203.0.113.9', '699999999')).toBeGreaterThan(0);
    expect(await limiter.blockedFor('203.0.113.9', '699999998')).toBe(0);
  });
});
