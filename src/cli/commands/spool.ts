import type { Command } from 'commander';
import { createQueue } from '../../jobs/queues.js';
import { sweepOrphanSpool } from '../../pipeline/spool-sweep.js';
import { QueueName } from '../../jobs/types.js';
import { openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop spool sweep`: what workers do every few minutes, on demand (e.g. after a crash). */
export function registerSpoolCommands(program: Command, ctx: CliContext): void {
  program
    .command('spool')
    .description('the spool of accepted messages not yet processed')
    .command('sweep')
    .description('remove spool objects left by an SMTP door that died before queueing them (no job, no outcome)')
    .option('--min-age <seconds>', 'only objects at least this old (default: CASEDROP_SPOOL_ORPHAN_AGE_SECONDS)')
    .action(async (opts: { minAge?: string }) => {
      const config = ctx.config();
      const minAge = opts.minAge === undefined ? config.spoolOrphanAgeSeconds : Number(opts.minAge);
      if (!Number.isFinite(minAge) || minAge < 0) throw new UsageError('--min-age must be a number of seconds');
      const intake = createQueue(config, QueueName.intake, ctx.redis());
      try {
        const removed = await sweepOrphanSpool({ store: await openStore(config, ctx.logger()), intake, logger: ctx.logger(), minAgeMs: minAge * 1000 });
        for (const spoolId of removed) ctx.out(`removed\t${spoolId}`);
        ctx.out(`${removed.length} orphaned spool object(s) removed`);
      } finally {
        await intake.close();
      }
    });
}
