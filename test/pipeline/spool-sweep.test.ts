import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { main } from '../../src/cli/main.js';
import { createContext } from '../../src/cli/context.js';
import { sweepOrphanSpool } from '../../src/pipeline/spool-sweep.js';
import { createRedis } from '../../src/redis.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';
import { intakeQueue, openTestStore, sample, silent, spool } from './helpers.js';

let env: ReturnType<typeof testConfig>;
let redis: Redis;
let store: ObjectStore;
let intake: Queue;

beforeEach(async () => {
  env = testConfig();
  redis = createRedis(env.config, 'worker');
  store = await openTestStore(env.config);
  intake = intakeQueue(env.config, redis);
});

afterEach(async () => {
  await intake.close();
  redis.disconnect();
  await env.cleanup();
});

const HOUR = 3_600_000;

describe('sweepOrphanSpool', () => {
  it('removes an old spool object with neither job nor outcome, and nothing else', async () => {
    const orphan = await spool(store, sample('simple-7z.eml'));
    const queued = await spool(store, sample('simple-7z.eml'), {}, intake);
    const finishing = await spool(store, sample('simple-7z.eml'));
    await store.put('outcomes', Readable.from([Buffer.from('{}')]), {}, { name: finishing });
    const later = () => Date.now() + HOUR;

    expect(await sweepOrphanSpool({ store, intake, logger: silent, minAgeMs: HOUR / 2, now: later })).toEqual([orphan]);
    expect(await store.list('spool/')).toEqual([`spool/${queued}`, `spool/${finishing}`].sort());
  });

  it('leaves a young orphan alone: its door may still be adding the job', async () => {
    const young = await spool(store, sample('simple-7z.eml'));
    expect(await sweepOrphanSpool({ store, intake, logger: silent, minAgeMs: HOUR })).toEqual([]);
    expect(await store.exists(`spool/${young}`)).toBe(true);
  });

  it('runs on demand as casedrop spool sweep', async () => {
    const orphan = await spool(store, sample('simple-7z.eml'));
    const out: string[] = [];
    const cliEnv = { NODE_ENV: 'test', CASEDROP_REDIS_PREFIX: env.config.redisPrefix, CASEDROP_DATA_DIR: env.config.dataDir, CASEDROP_LOG_LEVEL: 'silent', CASEDROP_MASTER_KEYS: env.config.masterKeys ?? '' };
    expect(await main(['node', 'casedrop', 'spool', 'sweep', '--min-age', '0'], createContext(cliEnv, (l) => out.push(l)))).toBe(0);
    expect(out).toEqual([`removed\t${orphan}`, '1 orphaned spool object(s) removed']);
    expect(await store.list('spool/')).toEqual([]);
  });
});
