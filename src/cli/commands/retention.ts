import type { Command } from 'commander';
import { AuditLog } from '../../audit/log.js';
import { assertCaseNumber } from '../../cases/number.js';
import { Holds } from '../../retention/holds.js';
import { retentionDeps } from '../../retention/job.js';
import { formatAction, runRetention } from '../../retention/run.js';
import { openArchive, openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop retention run [--dry-run]`: what the daily job does, on demand, with the reason for each action. */
export function registerRetentionCommands(program: Command, ctx: CliContext): void {
  program
    .command('retention')
    .description('the retention policy: closed cases archived or deleted, staging expired')
    .command('run')
    .description('archive or delete what the policy says is due, expire stale staging; prints one line per action with why')
    .option('--dry-run', 'print what would be done, change nothing')
    .option('--operator <name>', 'who runs it (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (opts: { dryRun?: boolean; operator?: string }) => {
      const config = ctx.config();
      const live = await openStore(config, ctx.logger());
      const archive = await openArchive(config, ctx.logger());
      const deps = retentionDeps({
        config,
        live,
        archive,
        registry: ctx.registry(),
        redis: ctx.redis(),
        logger: ctx.logger(),
        operator: ctx.operator(opts.operator),
      });
      const actions = await runRetention(deps, { dryRun: opts.dryRun === true });
      for (const a of actions) ctx.out(formatAction(a));
      ctx.out(`${actions.filter((a) => a.kind !== 'held').length} action(s)${opts.dryRun ? ' would be taken (dry run)' : ' taken'}`);
    });
}

/** `casedrop case hold <n> on|off --reason`: a legal hold stops retention and purges for the case. */
export function registerCaseHoldCommands(caseCommand: Command, ctx: CliContext): void {
  caseCommand
    .command('hold <number> <state>')
    .description('put a legal hold on a case (on) or lift it (off): while held, retention and purge leave the case alone')
    .requiredOption('--reason <text>', 'why (kept with the hold and in the audit trail)')
    .option('--operator <name>', 'who sets it (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, state: string, opts: { reason: string; operator?: string }) => {
      const caseNumber = assertCaseNumber(n, ctx.config().caseDigits);
      if (state !== 'on' && state !== 'off') throw new UsageError(`hold state must be on or off, not "${state}"`);
      if (!(await ctx.registry().get(caseNumber))) throw new UsageError(`case ${caseNumber} does not exist`);
      const by = ctx.operator(opts.operator);
      const holds = new Holds(ctx.redis(), ctx.config().redisPrefix);
      if (state === 'on') await holds.set(caseNumber, { reason: opts.reason, by, since: new Date().toISOString() });
      else await holds.clear(caseNumber);
      const audit = new AuditLog(await openStore(ctx.config(), ctx.logger()), ctx.redis(), ctx.config().redisPrefix);
      await audit.append(caseNumber, { type: state === 'on' ? 'hold-on' : 'hold-off', actor: by, channel: 'cli', reason: opts.reason });
      ctx.out(`${caseNumber}\thold ${state}\t${by}`);
    });
}
