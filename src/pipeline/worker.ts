import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import type { Stoppable } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { createRedis } from '../redis.js';
import type { ObjectStore } from '../store/types.js';
import { MemoryBudget } from './memory-budget.js';
import { sweepOrphanSpool } from './spool-sweep.js';
import { redisNameRegistry } from './stored-names.js';
import { processIntake, type IntakeDeps, type IntakeStep } from './intake.js';
import { createQueue } from '../jobs/queues.js';
import { QueueName, type IntakeJobData } from '../jobs/types.js';

export interface IntakeWorkerOptions {
  config: Config;
  logger: Logger;
  store: ObjectStore;
  registry: CaseRegistry;
  verify: IntakeDeps['verify'];
  /** a worker-role connection (maxRetriesPerRequest: null); made from the config when absent */
  redis?: Redis;
}

export interface IntakeWorker {
  worker: Worker<IntakeJobData>;
  /** waits for jobs in flight, then closes; the shutdown grace period bounds it (src/lifecycle.ts) */
  close(): Promise<void>;
}

/** For `serve`: the worker as one of the parts stopped in order on SIGTERM. */
export function intakeWorkerStoppable(worker: IntakeWorker): Stoppable {
  return { name: 'intake-worker', stop: () => worker.close() };
}

/**
 * The intake worker. Stalled-job recovery is BullMQ's: a job whose worker died keeps its lock only
 * for `workerLockMs`, then a live worker's stalled check puts it back, and `processIntake` redoes it
 * idempotently. Permanent failures throw UnrecoverableError and stay in the failed set, which is the
 * dead-letter list of `casedrop jobs failed`.
 */
export function startIntakeWorker(options: IntakeWorkerOptions): IntakeWorker {
  const { config, logger } = options;
  const ownRedis = options.redis === undefined;
  const redis = options.redis ?? createRedis(config, 'worker');
  const notify = createQueue(config, QueueName.notify, redis);
  const log = logger.child({ component: 'intake-worker' });
  const deps: IntakeDeps = { config, store: options.store, registry: options.registry, verify: options.verify, notify, logger: log, names: redisNameRegistry(redis, config.redisPrefix), budget: new MemoryBudget(config.workerMemoryBytes), checkpoint: testCrashHook(config) };
  const worker = new Worker<IntakeJobData>(QueueName.intake, (job: Job<IntakeJobData>) => runJob(job, deps), {
    connection: redis,
    prefix: config.redisPrefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.workerLockMs,
    stalledInterval: config.workerStalledCheckMs,
    maxStalledCount: 2,
  });
  const sweeper = startSpoolSweeper(config, redis, options.store, log);
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'intake job failed'));
  worker.on('error', (err) => log.error({ err: err.message }, 'intake worker error'));
  return {
    worker,
    close: async () => {
      await sweeper.stop();
      await worker.close();
      await notify.close();
      if (ownRedis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

async function runJob(job: Job<IntakeJobData>, deps: IntakeDeps): Promise<void> {
  const spoolId = job.data.spoolId;
  await processIntake(spoolId, { ...deps, logger: deps.logger.child({ jobId: job.id, attempt: job.attemptsMade + 1 }) });
}

/** Every worker sweeps now and then; sweeps are idempotent, so several workers doing it is harmless. */
function startSpoolSweeper(config: Config, redis: Redis, store: ObjectStore, log: Logger): { stop(): Promise<void> } {
  const intake = createQueue(config, QueueName.intake, redis);
  const minAgeMs = config.spoolOrphanAgeSeconds * 1000;
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = sweepOrphanSpool({ store, intake, logger: log, minAgeMs }).catch((err: unknown) => log.error({ err }, 'spool sweep failed'));
  };
  const timer = setInterval(sweep, Math.min(minAgeMs / 2, 5 * 60_000));
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      await intake.close();
    },
  };
}

/**
 * TEST ONLY: `CASEDROP_TEST_CRASH_AT=<step>` with NODE_ENV=test makes the process die (exit 137, as
 * if killed) at that step, once per process, so the crash tests can prove retries converge. Ignored
 * in any other mode.
 */
function testCrashHook(config: Pick<Config, 'mode'>): IntakeDeps['checkpoint'] {
  const at = process.env.CASEDROP_TEST_CRASH_AT;
  if (config.mode !== 'test' || !at) return undefined;
  return (step: IntakeStep) => {
    if (step === at) process.exit(137);
  };
}
