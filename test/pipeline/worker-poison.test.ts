import type { ChildProcess } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { retryFailed } from '../../src/jobs/dead-letter.js';
import { createRedis } from '../../src/redis.js';
import { testConfig } from '../helpers/env.js';
import { CASE, intakeQueue, notifyQueue, openTestStore, readOutcome, registryFor, sample, spool } from './helpers.js';
import { runWorker, workerVars } from './worker-process.js';

/**
 * A message that kills its worker process inside the parse (CASEDROP_TEST_CRASH_AT=during-parse,
 * exit 137 like kill -9) is recognised by its durable attempt marker: after CASEDROP_POISON_ATTEMPTS
 * deaths the next attempt dead-letters it as too-complex, keeps its spool, and queues the replies;
 * `jobs retry` then runs it afresh. Runs the compiled code, parse threads included.
 */
describe('a message that kills its worker', () => {
  it('is dead-lettered as too-complex after CASEDROP_POISON_ATTEMPTS deaths, its spool kept and its sender told; jobs retry runs it again', async () => {
    const settings = { CASEDROP_WORKER_LOCK_MS: '1000', CASEDROP_WORKER_STALLED_CHECK_MS: '500', CASEDROP_POISON_ATTEMPTS: '2' };
    const { config, cleanup } = testConfig(settings);
    const redis = createRedis(config, 'worker');
    const store = await openTestStore(config);
    const queue = intakeQueue(config, redis);
    const notify = notifyQueue(config, redis);
    const vars = workerVars(config, settings);
    let survivor: ChildProcess | undefined;
    try {
      await registryFor(config, redis, store).open(CASE, 'engineer@example.com');
      const spoolId = await spool(store, sample('verdicts.eml'), {}, queue);
      for (let death = 1; death <= 2; death++) expect(await runWorker({ ...vars, CASEDROP_TEST_CRASH_AT: 'during-parse' }).exited).toBe(137);

      survivor = runWorker(vars).child;
      await vi.waitFor(async () => expect(await (await queue.getJob(spoolId))?.getState()).toBe('failed'), { timeout: 20_000, interval: 100 });
      expect((await queue.getJob(spoolId))?.failedReason).toMatch(/^too-complex: the message stopped its worker 2 times/);
      expect(await store.exists(`spool/${spoolId}`)).toBe(true);
      const poison = await readOutcome(store, `${spoolId}.poison`);
      expect(poison.refused.map((r) => r.reason)).toEqual(['too-complex']);
      expect(poison.mailFrom).toBe('customer@example.com');
      expect((await notify.getJob(`${spoolId}.poison`))?.data).toEqual({ outcomeId: `outcomes/${spoolId}.poison` });

      await retryFailed(config, redis, { id: spoolId });
      await vi.waitFor(async () => expect(await (await queue.getJob(spoolId))?.getState()).toBe('completed'), { timeout: 20_000, interval: 100 });
      expect((await readOutcome(store, spoolId)).kind).toBe('partial');
      expect(await store.exists(`spool/${spoolId}`)).toBe(false);
    } finally {
      survivor?.kill('SIGTERM');
      await queue.close();
      await notify.close();
      redis.disconnect();
      await cleanup();
    }
  }, 90_000);

  // Issue 15's CI run: a worker killed 4 times during a backlog dead-lettered 6 plain messages as
  // too-complex, because every job in flight (16) was counted, not the one in the parse thread (1).
  it('counts a death against the message in the parse thread only, not against those waiting for it', async () => {
    const settings = { CASEDROP_WORKER_LOCK_MS: '1000', CASEDROP_WORKER_STALLED_CHECK_MS: '500', CASEDROP_POISON_ATTEMPTS: '1', CASEDROP_PARSE_THREADS: '1' };
    const { config, cleanup } = testConfig(settings);
    const redis = createRedis(config, 'worker');
    const store = await openTestStore(config);
    const queue = intakeQueue(config, redis);
    const vars = workerVars(config, settings);
    let survivor: ChildProcess | undefined;
    try {
      await registryFor(config, redis, store).open(CASE, 'engineer@example.com');
      const ids: string[] = [];
      for (let n = 0; n < 6; n++) ids.push(await spool(store, sample('verdicts.eml'), {}, queue));
      expect(await runWorker({ ...vars, CASEDROP_TEST_CRASH_AT: 'during-parse' }).exited).toBe(137);

      survivor = runWorker(vars).child;
      const states = async () => Promise.all(ids.map(async (id) => (await queue.getJob(id))?.getState()));
      await vi.waitFor(async () => expect((await states()).every((s) => s === 'completed' || s === 'failed')).toBe(true), { timeout: 30_000, interval: 100 });
      // the one message in the parse thread when the process died: dead-lettered; the rest stored
      expect((await states()).filter((s) => s === 'failed')).toHaveLength(1);
      expect((await states()).filter((s) => s === 'completed')).toHaveLength(5);
    } finally {
      survivor?.kill('SIGTERM');
      await queue.close();
      redis.disconnect();
      await cleanup();
    }
  }, 90_000);
});
