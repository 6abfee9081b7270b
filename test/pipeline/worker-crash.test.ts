import type { ChildProcess } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import type { IntakeStep } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import { testConfig } from '../helpers/env.js';
import { CASE, intakeQueue, notifyQueue, openTestStore, readOutcome, registryFor, sample, spool } from './helpers.js';
import { runWorker, workerVars } from './worker-process.js';

/**
 * The worker process really dies (exit 137, like kill -9) between two steps; a fresh worker process
 * recovers the stalled job through BullMQ's stalled check and must converge on exactly one copy of
 * each file, one note, one outcome, one notify job, and the spool object gone.
 */
describe.each(['after-files', 'after-outcome', 'after-notify'] as IntakeStep[])('worker process killed %s', (step) => {
  it('a restarted worker recovers the stalled job without duplicates', async () => {
    const settings = { CASEDROP_WORKER_LOCK_MS: '1000', CASEDROP_WORKER_STALLED_CHECK_MS: '500' };
    const { config, cleanup } = testConfig(settings);
    const redis = createRedis(config, 'worker');
    const store = await openTestStore(config);
    const queue = intakeQueue(config, redis);
    const notify = notifyQueue(config, redis);
    const vars = workerVars(config, settings);
    let second: ChildProcess | undefined;
    try {
      await registryFor(config, redis, store).open(CASE, 'engineer@example.com');
      const spoolId = await spool(store, sample('verdicts.eml'), {}, queue);

      const first = runWorker({ ...vars, CASEDROP_TEST_CRASH_AT: step });
      expect(await first.exited).toBe(137);
      expect(await (await queue.getJob(spoolId))?.getState()).toBe('active');
      expect(await store.exists(`spool/${spoolId}`)).toBe(true);

      const restarted = runWorker(vars);
      second = restarted.child;
      await vi.waitFor(async () => expect(await (await queue.getJob(spoolId))?.getState()).toBe('completed'), { timeout: 20_000, interval: 100 });
      expect(await store.list(`cases/${CASE}/files/`)).toHaveLength(2);
      expect(await store.list(`cases/${CASE}/notes/`)).toHaveLength(1);
      expect(await store.list('outcomes/')).toEqual([`outcomes/${spoolId}`]);
      expect((await readOutcome(store, spoolId)).kind).toBe('partial');
      expect(await notify.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect(await store.exists(`spool/${spoolId}`)).toBe(false);
    } finally {
      second?.kill('SIGTERM');
      await queue.close();
      await notify.close();
      redis.disconnect();
      await cleanup();
    }
  }, 60_000);
});

// A death outside the parse is not the message's doing (a deploy, the OOM killer, a crash loop for
// another reason): BullMQ's stall bound used to be CASEDROP_POISON_ATTEMPTS + 1 (4), so a job whose
// worker was killed five times during a backlog was dead-lettered although nothing was wrong with it.
describe('a worker process killed five times while storing the same message', () => {
  it('does not dead-letter it: the next worker stores it once', async () => {
    const settings = { CASEDROP_WORKER_LOCK_MS: '1000', CASEDROP_WORKER_STALLED_CHECK_MS: '500', CASEDROP_POISON_ATTEMPTS: '3' };
    const { config, cleanup } = testConfig(settings);
    const redis = createRedis(config, 'worker');
    const store = await openTestStore(config);
    const queue = intakeQueue(config, redis);
    const vars = workerVars(config, settings);
    let survivor: ChildProcess | undefined;
    try {
      await registryFor(config, redis, store).open(CASE, 'engineer@example.com');
      const spoolId = await spool(store, sample('verdicts.eml'), {}, queue);
      for (let death = 1; death <= 5; death++) expect(await runWorker({ ...vars, CASEDROP_TEST_CRASH_AT: 'after-files' }).exited).toBe(137);

      survivor = runWorker(vars).child;
      await vi.waitFor(async () => expect(await (await queue.getJob(spoolId))?.getState()).toMatch(/^(completed|failed)$/), { timeout: 20_000, interval: 100 });
      expect(await (await queue.getJob(spoolId))?.getState()).toBe('completed');
      expect(await store.list(`cases/${CASE}/files/`)).toHaveLength(2);
      expect(await store.list('outcomes/')).toEqual([`outcomes/${spoolId}`]);
    } finally {
      survivor?.kill('SIGTERM');
      await queue.close();
      redis.disconnect();
      await cleanup();
    }
  }, 90_000);
});
