import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { AuditLog } from '../audit/log.js';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { testCrashHook } from '../crash-points.js';
import { createQueue } from '../jobs/queues.js';
import { QueueName } from '../jobs/types.js';
import type { Logger } from '../log.js';
import type { EncryptedStore } from '../store/store.js';
import { Holds } from './holds.js';
import type { RemovalStep } from '../purge/remove.js';
import { runRetention, type RetentionDeps, type RetentionStep } from './run.js';
import { orphanKeys, spoolStaging, type StagingSource } from './staging.js';

export const RETENTION_SCHEDULER_ID = 'retention-daily';
const DAY_MS = 24 * 3600 * 1000;

export type RetentionConfig = Pick<Config, 'redisPrefix' | 'retentionMonths' | 'retentionAction' | 'stagingDays' | 'mode' | 'jobAttempts' | 'jobBackoffMs'>;

/** Everything a retention run needs; `extraStaging` is where other channels' staging plugs in. */
export function retentionDeps(args: {
  config: RetentionConfig;
  live: EncryptedStore;
  archive: EncryptedStore;
  registry: CaseRegistry;
  redis: Redis;
  logger: Logger;
  operator: string;
  now?: () => Date;
  extraStaging?: StagingSource[];
}): RetentionDeps {
  const { config, live, redis } = args;
  const intake = createQueue(config, QueueName.intake, redis);
  return {
    live,
    archive: args.archive,
    redis,
    prefix: config.redisPrefix,
    audit: new AuditLog(live, redis, config.redisPrefix),
    logger: args.logger,
    registry: args.registry,
    holds: new Holds(redis, config.redisPrefix),
    staging: [spoolStaging(live, intake), orphanKeys({ live, archive: args.archive }), ...(args.extraStaging ?? [])],
    settings: { months: config.retentionMonths, action: config.retentionAction, stagingDays: config.stagingDays },
    now: args.now ?? (() => new Date()),
    operator: args.operator,
    checkpoint: testCrashHook<RetentionStep | RemovalStep>(config.mode),
  };
}

/**
 * The daily job: a BullMQ job scheduler (one entry however many workers start it) adds a `run` job
 * every 24 hours; one worker at a time runs it (concurrency 1, and the run is idempotent anyway).
 */
export async function startRetentionWorker(deps: RetentionDeps, config: RetentionConfig, redis: Redis, logger: Logger): Promise<{ close(): Promise<void> }> {
  const queue = createQueue(config, QueueName.retention, redis);
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { every: DAY_MS },
    { name: 'run', opts: { removeOnComplete: { count: 30 }, removeOnFail: { count: 30 } } },
  );
  const worker = new Worker(QueueName.retention, (job: Job) => runOnce(deps, logger, job), { connection: redis, prefix: config.redisPrefix, concurrency: 1 });
  worker.on('error', (err) => logger.error({ err: err.message }, 'retention worker error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}

async function runOnce(deps: RetentionDeps, logger: Logger, job: Job): Promise<{ actions: number }> {
  const actions = await runRetention(deps, { dryRun: false });
  logger.info({ jobId: job.id, actions: actions.length, event: 'retention_run' }, 'retention run finished');
  return { actions: actions.length };
}
