import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AuditLog } from '../audit/log.js';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { countJobs } from '../jobs/observe.js';
import { testCrashHook } from '../crash-points.js';
import { redisAttemptMarker } from './attempts.js';
import { parseThreadsAvailable, startParsePool } from './isolate.js';
import { createQueue, STALLS_BEFORE_DEAD_LETTER } from '../jobs/queues.js';
import { QueueName, type IntakeJobData } from '../jobs/types.js';
import type { Logger } from '../log.js';
import { senderCheckOptions } from '../auth/options.js';
import { createRedis } from '../redis.js';
import type { ObjectStore } from '../store/types.js';
import { processIntake, type IntakeDeps, type IntakeStep } from './intake.js';
import { MemoryBudget } from './memory-budget.js';
import { recover } from './recovery.js';
import { redisNameRegistry } from './stored-names.js';

export interface IntakeWorkerOptions {
  config: Config;
  logger: Logger;
  store: ObjectStore;
  /** a worker process passes one cached registry to its intake and notify stages (src/jobs/case-cache.ts) */
  registry: Pick<CaseRegistry, 'get'>;
  verify: IntakeDeps['verify'];
  /** a worker-role connection (maxRetriesPerRequest: null); made from the config when absent */
  redis?: Redis;
  /** this process's notify stage's outcome cache: each outcome written goes there too */
  outcomes?: IntakeDeps['outcomes'];
  /**
   * this process's notify step (NotifyWorkers.replies), run inline by each intake job: the outbound
   * jobs are added without a notify job in between. Absent, each outcome gets a notify job, for a
   * notify stage in another process.
   */
  replies?: IntakeDeps['replies'];
}

export interface IntakeWorker {
  worker: Worker<IntakeJobData>;
  /** waits for jobs in flight, then closes; the shutdown grace period bounds it (src/lifecycle.ts) */
  close(): Promise<void>;
  /** a recovery scan now (Redis was found reset); one at a time, a request while one runs is merged */
  recoverNow(): void;
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
  // parse threads exist in the built service (dist/); tests that run src/ parse in this thread
  const pool = config.parseThreads > 0 && parseThreadsAvailable() ? startParsePool(config, log) : undefined;
  const deps: IntakeDeps = {
    config,
    store: options.store,
    registry: options.registry,
    verify: options.verify,
    notify,
    ...(options.replies ? { replies: options.replies } : {}),
    logger: log,
    names: redisNameRegistry(redis, config.redisPrefix),
    budget: new MemoryBudget(config.workerMemoryBytes),
    checkpoint: testCrashHook<IntakeStep>(config.mode),
    senderChecks: senderCheckOptions(config),
    audit: new AuditLog(options.store, redis, config.redisPrefix),
    attempts: redisAttemptMarker(redis, config.redisPrefix),
    ...(pool ? { analyse: pool.analyse } : {}),
    ...(options.outcomes ? { outcomes: options.outcomes } : {}),
  };
  const worker = new Worker<IntakeJobData>(QueueName.intake, (job: Job<IntakeJobData>) => runJob(job, deps), {
    connection: redis,
    prefix: config.redisPrefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.workerLockMs,
    stalledInterval: config.workerStalledCheckMs,
    // more than the poison bound, so a message that kills its worker is recognised (and its sender
    // told) before BullMQ gives up on it as stalled
    maxStalledCount: Math.max(STALLS_BEFORE_DEAD_LETTER, config.poisonAttempts + 1),
  });
  countJobs(worker, QueueName.intake);
  const recovery = startRecovery(config, redis, options.store, log);
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'intake job failed'));
  worker.on('error', (err) => log.error({ err: err.message }, 'intake worker error'));
  return {
    worker,
    close: async () => {
      await recovery.stop();
      await worker.close();
      await pool?.close();
      await notify.close();
      if (ownRedis) await redis.quit().catch(() => redis.disconnect());
    },
    recoverNow: () => recovery.now(),
  };
}

async function runJob(job: Job<IntakeJobData>, deps: IntakeDeps): Promise<void> {
  const spoolId = job.data.spoolId;
  await processIntake(spoolId, { ...deps, logger: deps.logger.child({ jobId: job.id, attempt: job.attemptsMade + 1 }) });
}

/**
 * Every worker scans at start, every `recoveryAgeSeconds` and when asked (Redis found reset);
 * scans are idempotent (job ids are spool ids), so several workers scanning at once is harmless.
 */
function startRecovery(config: Config, redis: Redis, store: ObjectStore, log: Logger): { now(): void; stop(): Promise<void> } {
  const intake = createQueue(config, QueueName.intake, redis);
  const notify = createQueue(config, QueueName.notify, redis);
  const outbound = createQueue(config, QueueName.outbound, redis);
  const minAgeMs = config.recoveryAgeSeconds * 1000;
  let running: Promise<unknown> | undefined;
  let again = false;
  const scan = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = recover({ store, redis, prefix: config.redisPrefix, intake, notify, outbound, logger: log, minAgeMs })
      .catch((err: unknown) => log.error({ err: (err as Error).message, event: 'recovery_failed' }, 'recovery scan failed; tried again at the next interval'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          scan();
        }
      });
  };
  scan();
  const timer = setInterval(scan, Math.min(minAgeMs, 5 * 60_000));
  timer.unref();
  return {
    now: scan,
    stop: async () => {
      clearInterval(timer);
      again = false;
      await running;
      await Promise.all([intake.close(), notify.close(), outbound.close()]);
    },
  };
}
