import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { QueueName } from './types.js';

/**
 * Deaths of its worker process a job outlives before BullMQ dead-letters it as stalled. A death is
 * rarely the job's doing: a deploy, the OOM killer, a host going down, a crash loop for another
 * reason. The deaths a message does cause, in its parse, are counted exactly by the poison marker
 * (src/pipeline/attempts.ts); this bound is the last resort against a job that kills its worker
 * anywhere else, so it is high: a low one dead-lettered plain mail when a worker was killed a few
 * times during a backlog.
 */
export const STALLS_BEFORE_DEAD_LETTER = 20;

/**
 * Queue handles for producers. Every stage that adds jobs goes through here so retry policy and
 * retention are the same everywhere; `removeOnFail: false` keeps failed jobs as the dead-letter list
 * that `casedrop jobs failed` shows.
 */
export function jobOptions(config: Pick<Config, 'jobAttempts' | 'jobBackoffMs'>): DefaultJobOptions {
  return {
    attempts: config.jobAttempts,
    backoff: { type: 'exponential', delay: config.jobBackoffMs },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: false,
  };
}

export function createQueue(
  config: Pick<Config, 'redisPrefix' | 'jobAttempts' | 'jobBackoffMs'>,
  name: QueueName,
  connection: Redis | ConnectionOptions,
): Queue {
  const queue = new Queue(name, {
    connection: connection as ConnectionOptions,
    prefix: config.redisPrefix,
    defaultJobOptions: jobOptions(config),
  });
  // Connection errors surface as rejected add() calls where they matter; without a listener BullMQ
  // prints each one with console.error, a bare stack trace in the JSON log on every reconnect.
  queue.on('error', () => undefined);
  return queue;
}
