import type { Command } from 'commander';
import { AuditLog } from '../../audit/log.js';
import { assertCaseNumber } from '../../cases/number.js';
import { testCrashHook } from '../../crash-points.js';
import { CasedropError, ErrorCode } from '../../errors.js';
import { Holds } from '../../retention/holds.js';
import { purgeFiles } from '../../purge/purge.js';
import type { RemovalDeps, RemovalStep } from '../../purge/remove.js';
import { openArchive, openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** What purge and retention need, opened from the CLI's config. */
export async function removalDeps(ctx: CliContext): Promise<RemovalDeps> {
  const config = ctx.config();
  const live = await openStore(config, ctx.logger());
  const archive = await openArchive(config, ctx.logger());
  const audit = new AuditLog(live, ctx.redis(), config.redisPrefix);
  return { live, archive, redis: ctx.redis(), prefix: config.redisPrefix, audit, logger: ctx.logger(), checkpoint: testCrashHook<RemovalStep>(config.mode) };
}

/** `casedrop case purge`: a customer contact asked that files be removed for good. */
export function registerCasePurgeCommands(caseCommand: Command, ctx: CliContext): void {
  caseCommand
    .command('purge <number> [files...]')
    .description('remove files of a case for good (their keys are destroyed), leaving a case note and an audit entry; run it again if it was interrupted')
    .option('--all', 'every file and message text of the case')
    .requiredOption('--requested-by <contact>', 'the customer contact who asked for it')
    .requiredOption('--reason <text>', 'why, for the case note')
    .option('--operator <name>', 'who executes it (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, files: string[], opts: { all?: boolean; requestedBy: string; reason: string; operator?: string }) => {
      const caseNumber = assertCaseNumber(n, ctx.config().caseDigits);
      if (opts.all === files.length > 0) throw new UsageError('name the stored files to purge, or --all (not both)');
      if (!opts.requestedBy.trim() || !opts.reason.trim()) throw new UsageError('--requested-by and --reason must not be empty');
      const request = {
        caseNumber,
        files: opts.all ? ('all' as const) : files,
        requestedBy: opts.requestedBy,
        reason: opts.reason,
        operator: ctx.operator(opts.operator),
        now: new Date(),
      };
      const hold = await new Holds(ctx.redis(), ctx.config().redisPrefix).get(caseNumber);
      if (hold)
        throw new CasedropError(
          ErrorCode.CaseOnHold,
          `case ${caseNumber} is on legal hold (${hold.reason}, by ${hold.by}); lift it first: casedrop case hold ${caseNumber} off --reason …`,
        );
      const result = await purgeFiles(request, await removalDeps(ctx));
      for (const r of result.resumed) ctx.out(`finished\t${r.file.storedName}\t${r.file.size}\t${r.file.sha256}`);
      for (const r of result.removed) ctx.out(`purged\t${r.file.storedName}\t${r.file.size}\t${r.file.sha256}`);
      if (result.notes > 0) ctx.out(`purged\t${result.notes} message text(s)`);
    });
}
