import type { Command } from 'commander';
import { createQueue } from '../../jobs/queues.js';
import { recover } from '../../pipeline/recovery.js';
import { QueueName } from '../../jobs/types.js';
import { openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop spool recover`: the scan workers run at start and every minute, on demand. */
export function registerSpoolCommands(program: Command, ctx: CliContext): void {
  program
    .command('spool')
    .description('the spool of accepted messages not yet processed')
    .command('recover')
    .description('queue again every spool object, and every outcome whose replies were not all sent, that Redis has no job for')
    .option('--min-age <seconds>', 'only objects at least this old (default: CASEDROP_RECOVERY_AGE_SECONDS)')
    .action(async (opts: { minAge?: string }) => {
      const config = ctx.config();
      const minAge = opts.minAge === undefined ? config.recoveryAgeSeconds : Number(opts.minAge);
      if (!Number.isFinite(minAge) || minAge < 0) throw new UsageError('--min-age must be a number of seconds');
      const intake = createQueue(config, QueueName.intake, ctx.redis());
      const notify = createQueue(config, QueueName.notify, ctx.redis());
      const outbound = createQueue(config, QueueName.outbound, ctx.redis());
      try {
        const store = await openStore(config, ctx.logger());
        const c = await recover({
          store,
          redis: ctx.redis(),
          prefix: config.redisPrefix,
          intake,
          notify,
          outbound,
          logger: ctx.logger(),
          minAgeMs: minAge * 1000,
        });
        ctx.out(
          `spool: ${c.spool.seen} seen, ${c.spool.requeued} re-queued, ${c.spool.abandoned} abandoned by their door removed; outcomes: ${c.outcomes.seen} seen, ${c.outcomes.requeued} re-queued for replies (${c.ms} ms)`,
        );
      } finally {
        await Promise.all([intake.close(), notify.close(), outbound.close()]);
      }
    });
}
