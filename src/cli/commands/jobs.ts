import type { Command } from 'commander';
import { listFailed, retryFailed, type FailedJob } from '../../jobs/dead-letter.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop jobs failed|retry`: the dead-letter list and re-driving it. */
export function registerJobsCommands(program: Command, ctx: CliContext): void {
  const jobs = program.command('jobs').description('jobs that failed for good (dead letters)');
  jobs
    .command('failed')
    .description('list failed jobs of every queue: queue, id, attempts, failed at, reason')
    .action(() => jobsFailed(ctx));
  jobs
    .command('retry [id]')
    .description('re-drive one failed job by id, or all with --all')
    .option('--all', 'retry every failed job')
    .action((id: string | undefined, opts: { all?: boolean }) => jobsRetry(ctx, id, opts.all === true));
}

function line(job: FailedJob): string {
  return [job.queue, job.id, String(job.attemptsMade), job.failedAt ?? '', job.failedReason.replace(/\s+/g, ' ')].join('\t');
}

export async function jobsFailed(ctx: CliContext): Promise<void> {
  for (const job of await listFailed(ctx.config(), ctx.redis())) ctx.out(line(job));
}

export async function jobsRetry(ctx: CliContext, id: string | undefined, all: boolean): Promise<void> {
  if (all === (id !== undefined)) throw new UsageError('give a job id or --all (not both)');
  const retried = await retryFailed(ctx.config(), ctx.redis(), all ? 'all' : { id: id ?? '' });
  for (const job of retried) ctx.out(`retried\t${job.queue}\t${job.id}`);
  if (retried.length === 0) ctx.out('no failed jobs');
}
