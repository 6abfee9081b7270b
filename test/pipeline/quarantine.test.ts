import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { registry as metrics } from '../../src/metrics.js';
import { startIntakeWorker, type IntakeWorker } from '../../src/pipeline/worker.js';
import { createRedis } from '../../src/redis.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';
import { CASE, intakeQueue, openTestStore, realVerify, registryFor, sample, silent, spool } from './helpers.js';

/** A spool object that fails authentication on read is quarantined, its job dead-lettered, and the rest drains. */
let env: ReturnType<typeof testConfig>;
let redis: Redis;
let store: ObjectStore;
let queue: Queue;
let worker: IntakeWorker | undefined;

beforeEach(async () => {
  env = testConfig({ CASEDROP_JOB_ATTEMPTS: '3', CASEDROP_JOB_BACKOFF_MS: '50' });
  redis = createRedis(env.config, 'worker');
  store = await openTestStore(env.config);
  queue = intakeQueue(env.config, redis);
  await registryFor(env.config, redis, store).open(CASE, 'engineer@example.com');
});
afterEach(async () => {
  await worker?.close();
  await queue.close();
  redis.disconnect();
  await env.cleanup();
});

/** Flips one bit in the middle of an object file: inside a content chunk, whose tag then fails. */
function flipBit(path: string, at = Math.floor(statSync(path).size / 2)): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0]! ^= 0x10;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

async function quarantined(): Promise<number> {
  const m = await metrics.getSingleMetricAsString('casedrop_objects_quarantined_total');
  return [...m.matchAll(/namespace="spool",code="OBJECT_CORRUPT"} (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0);
}

describe('a damaged spool object', () => {
  it('is moved to quarantine/, its job dead-lettered with the reason (casedrop jobs failed), and the other jobs complete', async () => {
    const before = await quarantined();
    const good1 = await spool(store, sample('simple-7z.eml'), {}, queue);
    const bad = await spool(store, sample('simple-7z.eml'));
    const good2 = await spool(store, sample('simple-7z.eml'), {}, queue);
    flipBit(join(env.config.dataDir, 'objects', 'spool', `${bad}.cdo`));
    await queue.add('message', { spoolId: bad }, { jobId: bad });

    worker = startIntakeWorker({ config: env.config, logger: silent, store, registry: registryFor(env.config, redis, store), verify: realVerify });
    await vi.waitFor(async () => expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 2, failed: 1 }), {
      timeout: 30_000,
      interval: 100,
    });

    const failed = await queue.getJob(bad);
    expect(failed?.failedReason).toMatch(new RegExp(`^spool/${bad}: OBJECT_CORRUPT \\(quarantined as quarantine/spool\\.${bad}\\.\\d+\\)$`));
    expect(failed?.attemptsMade, 'no retries: damage does not heal').toBe(1);
    expect(await store.exists(`spool/${bad}`)).toBe(false);
    expect((await store.list('quarantine/')).map((id) => id.replace(/\.\d+$/, ''))).toEqual([`quarantine/spool.${bad}`]);
    for (const id of [good1, good2]) expect(await store.exists(`outcomes/${id}`)).toBe(true);
    expect(await quarantined()).toBe(before + 1);

    const out: string[] = [];
    const vars = {
      NODE_ENV: 'test',
      CASEDROP_REDIS_PREFIX: env.config.redisPrefix,
      CASEDROP_DATA_DIR: env.config.dataDir,
      CASEDROP_LOG_LEVEL: 'silent',
      CASEDROP_MASTER_KEYS: env.config.masterKeys ?? '',
    };
    expect(
      await main(
        ['node', 'casedrop', 'jobs', 'failed'],
        createContext(vars, (l) => out.push(l)),
      ),
    ).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(new RegExp(`^intake\\t${bad}\\t1\\t.+\\tspool/${bad}: OBJECT_CORRUPT \\(quarantined as quarantine/spool\\.${bad}\\.\\d+\\)$`));
  });
});
