import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import { jobsFinished } from '../metrics.js';
import type { QueueName } from './types.js';

/** Counts each job a worker finishes in `casedrop_jobs_total` (completed, retried, failed for good). */
export function countJobs(worker: Worker, queue: QueueName): void {
  worker.on('completed', () => jobsFinished.inc({ queue, result: 'completed' }));
  worker.on('failed', (job, err) => jobsFinished.inc({ queue, result: failedForGood(job, err) ? 'failed' : 'retried' }));
}

/** BullMQ's own rule (Job.shouldRetryJob): attempts used up, or an error that says not to retry. */
export function failedForGood(job: Pick<Job, 'attemptsMade' | 'opts'> | undefined, err: Error): boolean {
  if (job === undefined || err instanceof UnrecoverableError || err.name === 'UnrecoverableError') return true;
  // the failed event comes after BullMQ counted this attempt
  return job.attemptsMade >= (job.opts.attempts ?? 1);
}
