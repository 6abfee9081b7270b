import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import type { Config } from '../../src/config/schema.js';
import { cachedCases } from '../../src/jobs/case-cache.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName } from '../../src/jobs/types.js';
import { startNotifyWorkers } from '../../src/notify/index.js';
import { startIntakeWorker, type IntakeWorker } from '../../src/pipeline/worker.js';
import { createRedis } from '../../src/redis.js';
import type { ObjectStore } from '../../src/store/types.js';
import type { VerifyInput } from '../../src/verify/types.js';
import { testConfig } from '../helpers/env.js';
import { CASE, intakeQueue, realVerify, openTestStore, readOutcome, registryFor, sample, silent, spool } from './helpers.js';

let env: ReturnType<typeof testConfig>;
let config: Config;
let redis: Redis;
let store: ObjectStore;
let queue: Queue;
let worker: IntakeWorker | undefined;

beforeEach(async () => {
  env = testConfig({ CASEDROP_JOB_ATTEMPTS: '3', CASEDROP_JOB_BACKOFF_MS: '50', CASEDROP_WORKER_CONCURRENCY: '2' });
  config = env.config;
  redis = createRedis(config, 'worker');
  store = await openTestStore(config);
  queue = intakeQueue(config, redis);
  await registryFor(config, redis, store).open(CASE, 'engineer@example.com');
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queue.close();
  redis.disconnect();
  await env.cleanup();
});

function start(verify = realVerify): IntakeWorker {
  worker = startIntakeWorker({ config, logger: silent, store, registry: registryFor(config, redis, store), verify });
  return worker;
}

/** Retries the probe (vi.waitFor) until it gives `want`; fails with the last value it gave. */
async function eventually<T>(probe: () => Promise<T>, want: T): Promise<void> {
  await vi.waitFor(async () => expect(await probe()).toBe(want), { timeout: 15_000, interval: 50 });
}

async function cli(...args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const vars = {
    NODE_ENV: 'test',
    CASEDROP_REDIS_PREFIX: config.redisPrefix,
    CASEDROP_DATA_DIR: config.dataDir,
    CASEDROP_LOG_LEVEL: 'silent',
    CASEDROP_MASTER_KEYS: config.masterKeys ?? '',
  };
  const code = await main(
    ['node', 'casedrop', ...args],
    createContext(vars, (l) => out.push(l)),
  );
  return { code, out };
}

describe('intake worker', () => {
  it('takes spooled jobs from the queue and completes them with an outcome, at the configured concurrency', async () => {
    expect(start().worker.opts.concurrency).toBe(2);
    const ids = [await spool(store, sample('simple-7z.eml'), {}, queue), await spool(store, sample('verdicts.eml'), {}, queue)];
    for (const id of ids) await eventually(async () => (await queue.getJob(id))?.getState(), 'completed');
    expect((await readOutcome(store, ids[0]!)).kind).toBe('stored');
    expect((await readOutcome(store, ids[1]!)).kind).toBe('partial');
  });

  it('retries a temporary failure with backoff and then succeeds', async () => {
    let calls = 0;
    const flaky = async (input: VerifyInput) => {
      if (++calls === 1) throw new Error('temporary: verifier busy');
      return realVerify(input);
    };
    start(flaky);
    const id = await spool(store, sample('simple-7z.eml'), {}, queue);
    await eventually(async () => (await queue.getJob(id))?.getState(), 'completed');
    expect((await queue.getJob(id))?.attemptsMade).toBe(2);
    expect(await store.list(`cases/${CASE}/files/`)).toHaveLength(1);
  });

  it('a permanent failure is dead-lettered at once; jobs failed lists it and jobs retry re-drives it', async () => {
    start();
    await queue.add('message', { spoolId: 'MISSINGSPOOL' }, { jobId: 'MISSINGSPOOL' });
    await eventually(async () => (await queue.getJob('MISSINGSPOOL'))?.getState(), 'failed');
    expect((await queue.getJob('MISSINGSPOOL'))?.attemptsMade).toBe(1);
    const failed = await cli('jobs', 'failed');
    expect(failed.code).toBe(0);
    expect(failed.out).toHaveLength(1);
    expect(failed.out[0]).toMatch(/^intake\tMISSINGSPOOL\t1\t\S+\tspool object MISSINGSPOOL is missing/);

    // the engineer restores the cause, then re-drives
    await spool(store, sample('simple-7z.eml'), { spoolId: 'MISSINGSPOOL' });
    expect((await cli('jobs', 'retry', 'MISSINGSPOOL')).out).toEqual(['retried\tintake\tMISSINGSPOOL']);
    await eventually(async () => (await queue.getJob('MISSINGSPOOL'))?.getState(), 'completed');
    expect((await cli('jobs', 'failed')).out).toEqual([]);
  });

  it('jobs retry --all re-drives every failed job; an unknown id or no argument is an error', async () => {
    start();
    for (const id of ['GONE1', 'GONE2']) await queue.add('message', { spoolId: id }, { jobId: id });
    await eventually(async () => (await queue.getFailed()).length, 2);
    for (const id of ['GONE1', 'GONE2']) await spool(store, sample('no-attachment.eml'), { spoolId: id });
    expect((await cli('jobs', 'retry', '--all')).out).toHaveLength(2);
    await eventually(async () => (await queue.getJobCounts('completed')).completed, 2);
    expect((await queue.getJobCounts('completed')).completed).toBe(2);
    expect((await cli('jobs', 'retry', 'NOPE')).code).toBe(1);
    expect((await cli('jobs', 'retry')).code).toBe(2);
  });
});

describe('intake worker with the notify stage of its process (as serve runs them)', () => {
  it('decides the replies in the intake job: two jobs per message (intake, one outbound carrying both mails), no notify job', async () => {
    const registry = cachedCases(registryFor(config, redis, store));
    const notify = startNotifyWorkers({ config, logger: silent, store, registry, redis });
    worker = startIntakeWorker({ config, logger: silent, store, registry, verify: realVerify, redis, replies: notify.replies });
    const notifyQueue = createQueue(config, QueueName.notify, redis);
    const outbound = createQueue(config, QueueName.outbound, redis);
    try {
      const id = await spool(store, sample('simple-7z.eml'), {}, queue);
      await eventually(() => store.exists(`replies/${id}`), true);
      expect(await (await queue.getJob(id))?.getState()).toBe('completed');
      expect(await notifyQueue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({
        waiting: 0,
        active: 0,
        completed: 0,
        failed: 0,
        delayed: 0,
      });
      const jobs = await outbound.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
      expect(jobs.map((j) => [j.id, j.data.notice])).toEqual([[`${id}-sender`, true]]);
      // the outcome was read from the intake job's own copy, and both mails went out from one job
      expect(await store.exists(`replies/${id}-engineer`)).toBe(true);
      expect(await store.exists(`spool/${id}`)).toBe(false);
    } finally {
      await worker.close();
      worker = undefined;
      await notify.close();
      await Promise.all([notifyQueue.close(), outbound.close()]);
    }
  });
});
