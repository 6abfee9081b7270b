import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisCaseRegistry } from '../../src/cases/registry.js';
import { isCasedropError } from '../../src/errors.js';
import { testConfig } from '../helpers/env.js';

describe('RedisCaseRegistry', () => {
  const { config, cleanup } = testConfig();
  let redis: Redis;
  let registry: RedisCaseRegistry;

  beforeAll(() => {
    redis = new Redis(config.redisUrl);
    registry = new RedisCaseRegistry(redis, config.redisPrefix, config.caseDigits);
  });
  afterAll(async () => {
    redis.disconnect();
    await cleanup();
  });

  it('opens, finds, closes and reopens a case', async () => {
    const opened = await registry.open('612345678', 'eng@example.com');
    expect(opened).toMatchObject({ number: '612345678', state: 'open', owner: 'eng@example.com' });
    expect(await registry.get('612345678')).toEqual(opened);

    const closed = await registry.close('612345678');
    expect(closed.state).toBe('closed');
    expect(closed.closedAt).toBeDefined();

    const reopened = await registry.reopen('612345678');
    expect(reopened.state).toBe('open');
    expect(reopened.closedAt).toBeUndefined();
  });

  it('returns null for an unknown case and refuses to open one twice', async () => {
    expect(await registry.get('600000001')).toBeNull();
    await registry.open('600000002', 'a@example.com');
    await expect(registry.open('600000002', 'b@example.com')).rejects.toSatisfy((e) => isCasedropError(e, 'CASE_EXISTS'));
    expect((await registry.get('600000002'))?.owner).toBe('a@example.com');
  });

  it('refuses case numbers of the wrong shape without asking Redis', async () => {
    for (const bad of ['12345678', '1234567890', '61234567a', '']) {
      await expect(registry.get(bad)).rejects.toSatisfy((e) => isCasedropError(e, 'CASE_NUMBER_INVALID'));
    }
  });

  it('lists by state', async () => {
    await registry.open('600000010', 'x@example.com');
    await registry.open('600000011', 'x@example.com');
    await registry.close('600000011');
    const open = (await registry.list('open')).map((c) => c.number);
    const closed = (await registry.list('closed')).map((c) => c.number);
    expect(open).toContain('600000010');
    expect(open).not.toContain('600000011');
    expect(closed).toEqual(['600000011']);
    expect((await registry.list()).length).toBe(open.length + closed.length);
  });

  it('closing an unknown case is an error', async () => {
    await expect(registry.close('699999999')).rejects.toSatisfy((e) => isCasedropError(e, 'CASE_NOT_FOUND'));
  });
});
