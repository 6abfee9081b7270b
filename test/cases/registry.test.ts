import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { caseRegistry, DurableCaseRegistry } from '../../src/cases/registry.js';
import { isCasedropError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { DurableRecords } from '../../src/records/durable.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { deletePrefix, testConfig } from '../helpers/env.js';

const silent = createLogger('silent');

describe('DurableCaseRegistry', () => {
  const { config, cleanup } = testConfig();
  let redis: Redis;
  let registry: DurableCaseRegistry;
  let store: ObjectStore;

  beforeAll(async () => {
    redis = new Redis(config.redisUrl);
    store = await openStore(config, silent);
    registry = caseRegistry(store, redis, config, silent);
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

  it('keeps cases in the encrypted store: a Redis that forgot everything still finds them, and the index is rebuilt', async () => {
    await registry.open('600000020', 'keep@example.com');
    await registry.open('600000021', 'keep@example.com');
    await registry.close('600000021');
    expect(await store.exists('records/case/600000020')).toBe(true);
    await deletePrefix(config.redisUrl, config.redisPrefix);

    // a fresh process: nothing in Redis, the store only
    const records = new DurableRecords(store, redis, config.redisPrefix, silent);
    const after = new DurableCaseRegistry(records, config.caseDigits);
    expect((await after.get('600000021'))?.state).toBe('closed');
    expect(await records.ensureIndex()).toBe(true);
    expect(await redis.hget(`${config.redisPrefix}:rec:case:600000020`, 'json')).toContain('keep@example.com');
    expect(await records.ensureIndex(), 'same Redis, nothing to rebuild').toBe(false);
    await expect(after.open('600000020', 'other@example.com')).rejects.toSatisfy((e) => isCasedropError(e, 'CASE_EXISTS'));
  });

  it('an older revision never replaces a newer one in the index', async () => {
    const records = new DurableRecords(store, redis, config.redisPrefix, silent);
    const reg = new DurableCaseRegistry(records, config.caseDigits);
    await reg.open('600000030', 'rev@example.com');
    await reg.close('600000030');
    await records.index('case', {
      id: '600000030',
      rev: 1,
      updatedAt: '',
      value: { number: '600000030', state: 'open', owner: 'rev@example.com', createdAt: '' },
    });
    expect((await reg.get('600000030'))?.state).toBe('closed');
  });
});
