import { afterAll, describe, expect, it } from 'vitest';
import { redisBatches, batchJobId } from '../../src/notify/batch.js';
import { redisCaps } from '../../src/notify/caps.js';
import { createRedis } from '../../src/redis.js';
import { testConfig } from '../helpers/env.js';

describe('caps and batches on real Redis', () => {
  const { config, cleanup } = testConfig();
  const redis = createRedis(config, 'worker');
  afterAll(async () => {
    redis.disconnect();
    await cleanup();
  });

  it('counts an outcome against every cap or none, names the cap it would pass, and answers a retry the same', async () => {
    const caps = redisCaps(redis, config.redisPrefix);
    const set = (sender: string) => [
      { name: 'sender', subject: sender, limit: 2 },
      { name: 'sender-domain', subject: 'example.com', limit: 3 },
    ];
    expect(await caps.check('reply', 'm1', set('a@example.com'))).toBe('allowed');
    expect(await caps.check('reply', 'm1', set('a@example.com'))).toBe('allowed'); // a retry: not counted again
    expect(await caps.check('reply', 'm2', set('a@example.com'))).toBe('allowed');
    expect(await caps.check('reply', 'm3', set('a@example.com'))).toBe('sender');
    expect(await caps.check('reply', 'm4', set('b@example.com'))).toBe('allowed');
    expect(await caps.check('reply', 'm5', set('c@example.com'))).toBe('sender-domain');
    expect(await caps.check('reply', 'm3', set('a@example.com'))).toBe('sender');
    // a refused check counted nothing: b still has room, the domain does not
    expect(await redis.get(`${config.redisPrefix}:cap:sender:b@example.com`)).toBe('1');
    expect(await redis.get(`${config.redisPrefix}:cap:sender-domain:example.com`)).toBe('3');
  });

  it('opens a window with the first member, keeps later members and retries in it, and removes only what was sent', async () => {
    let now = 10_300;
    const batches = redisBatches(redis, config.redisPrefix, 1000, () => now);
    const a = await batches.join('sender', 'x@example.com', 'm1');
    now = 11_200;
    const b = await batches.join('sender', 'x@example.com', 'm2');
    now = 11_250;
    const retry = await batches.join('sender', 'x@example.com', 'm1');
    now = 11_400;
    const later = await batches.join('sender', 'x@example.com', 'm3');
    // a burst from 10.3 s to 11.3 s is one window, though it crosses a whole second
    expect([a.until, b.until, retry.until, later.until]).toEqual([11_300, 11_300, 11_300, 12_400]);
    expect(batchJobId(a)).toBe(batchJobId(retry));
    expect(batchJobId(a)).not.toBe(batchJobId(later));
    expect(batchJobId(a)).not.toContain(':');
    expect(await batches.due(a)).toEqual(['m1', 'm2']);
    await batches.remove(a, ['m1', 'm2']);
    expect(await batches.due(later)).toEqual(['m3']);
  });
});
