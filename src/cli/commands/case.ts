import type { Command } from 'commander';
import type { Case, CaseState } from '../../cases/types.js';
import { assertCaseNumber } from '../../cases/number.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop case …`: the engineers' handle on the registry. Returns the sub-command for others to extend. */
export function registerCaseCommands(program: Command, ctx: CliContext): Command {
  const cmd = program.command('case').description('open, close and inspect support cases');
  const number = (n: string) => assertCaseNumber(n, ctx.config().caseDigits);

  cmd
    .command('open <number>')
    .description('open a case so mail and uploads for it are accepted')
    .requiredOption('--owner <email>', 'engineer who owns the case and gets its notifications')
    .action(async (n: string, opts: { owner: string }) => printCase(ctx, await ctx.registry().open(number(n), opts.owner)));
  cmd
    .command('close <number>')
    .description('close a case: new mail for it is refused')
    .action(async (n: string) => printCase(ctx, await ctx.registry().close(number(n))));
  cmd
    .command('reopen <number>')
    .description('reopen a closed case')
    .action(async (n: string) => printCase(ctx, await ctx.registry().reopen(number(n))));
  cmd
    .command('show <number>')
    .description('show one case')
    .action(async (n: string) => {
      const c = await ctx.registry().get(number(n));
      if (!c) throw new Error(`case ${n} does not exist`);
      printCase(ctx, c);
    });
  cmd
    .command('list')
    .description('list cases')
    .option('--state <state>', 'open or closed')
    .action(async (opts: { state?: string }) => {
      if (opts.state !== undefined && opts.state !== 'open' && opts.state !== 'closed') {
        throw new UsageError(`--state must be open or closed, not "${opts.state}"`);
      }
      for (const c of await ctx.registry().list(opts.state as CaseState | undefined)) printCase(ctx, c);
    });
  return cmd;
}

function printCase(ctx: CliContext, c: Case): void {
  ctx.out([c.number, c.state, c.owner, c.createdAt, c.closedAt ?? ''].join('\t').trimEnd());
}
