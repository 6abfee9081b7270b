import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';
import { createQueue } from './queues.js';
import { QueueName } from './types.js';

/**
 * The dead-letter list is BullMQ's failed set of every queue (jobs are added with removeOnFail:
 * false): a job lands there after its last attempt or an UnrecoverableError, and stays until an
 * engineer re-drives it.
 */
export interface FailedJob {
  queue: QueueName;
  id: string;
  name: string;
  data: unknown;
  attemptsMade: number;
  failedReason: string;
  failedAt?: string;
}

type QueueConfig = Pick<Config, 'redisPrefix' | 'jobAttempts' | 'jobBackoffMs'>;

async function withQueues<T>(config: QueueConfig, redis: Redis, fn: (queues: Queue[]) => Promise<T>): Promise<T> {
  const queues = Object.values(QueueName).map((name) => createQueue(config, name, redis));
  try {
    return await fn(queues);
  } finally {
    // the connection is the caller's; closing a queue made on a shared connection leaves it open
    await Promise.all(queues.map((q) => q.close()));
  }
}

export function listFailed(config: QueueConfig, redis: Redis): Promise<FailedJob[]> {
  return withQueues(config, redis, async (queues) => {
    const all: FailedJob[] = [];
    for (const queue of queues) {
      for (const job of await queue.getFailed()) all.push(describeFailed(queue.name as QueueName, job));
    }
    return all.sort((a, b) => (a.failedAt ?? '').localeCompare(b.failedAt ?? ''));
  });
}

function describeFailed(queue: QueueName, job: Job): FailedJob {
  return {
    queue,
    id: job.id ?? '',
    name: job.name,
    data: job.data,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason,
    ...(job.finishedOn !== undefined ? { failedAt: new Date(job.finishedOn).toISOString() } : {}),
  };
}

/** Re-drives one failed job (by id, in whichever queue holds it) or all; returns what was retried. */
export function retryFailed(config: QueueConfig, redis: Redis, which: { id: string } | 'all'): Promise<FailedJob[]> {
  return withQueues(config, redis, async (queues) => {
    const retried: FailedJob[] = [];
    for (const queue of queues) {
      const jobs = which === 'all' ? await queue.getFailed() : [await queue.getJob(which.id)].filter(isFailedCandidate);
      for (const job of jobs) {
        if (which !== 'all' && !(await job.isFailed())) continue;
        await job.retry('failed', { resetAttemptsMade: true });
        retried.push(describeFailed(queue.name as QueueName, job));
      }
    }
    if (which !== 'all' && retried.length === 0) throw new CasedropError(ErrorCode.JobNotFound, `no failed job with id ${which.id}`);
    return retried;
  });
}

function isFailedCandidate(job: Job | undefined): job is Job {
  return job !== undefined;
}
