import type { Command } from 'commander';
import { AuditLog, formatEntry } from '../../audit/log.js';
import { assertCaseNumber } from '../../cases/number.js';
import { openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { ExitStatus } from '../context.js';

/** `casedrop case audit <n> [--json] [--verify]`: the case's audit trail, and a check of its hash chain. */
export function registerCaseAuditCommands(caseCommand: Command, ctx: CliContext): void {
  caseCommand
    .command('audit <number>')
    .description('print the audit trail of a case (stored, refused, downloaded, purged, archived …); --verify checks its hash chain')
    .option('--json', 'one JSON array of entries')
    .option('--verify', 'check the hash chain; exit 1 naming every broken entry')
    .action(async (n: string, opts: { json?: boolean; verify?: boolean }) => {
      const caseNumber = assertCaseNumber(n, ctx.config().caseDigits);
      const log = new AuditLog(await openStore(ctx.config(), ctx.logger()), ctx.redis(), ctx.config().redisPrefix);
      if (opts.verify) return verifyLog(ctx, log, caseNumber);
      const entries = await log.read(caseNumber);
      if (opts.json) ctx.out(JSON.stringify(entries, null, 2));
      else for (const e of entries) ctx.out(formatEntry(e));
    });
}

async function verifyLog(ctx: CliContext, log: AuditLog, caseNumber: string): Promise<void> {
  const { entries, problems } = await log.verify(caseNumber);
  if (problems.length === 0) {
    ctx.out(`audit trail of case ${caseNumber}: ${entries} entries, chain intact`);
    return;
  }
  for (const p of problems) ctx.out(`BROKEN\t${p}`);
  process.stderr.write(`casedrop: the audit trail of case ${caseNumber} is broken (${problems.length} problem(s))\n`);
  throw new ExitStatus(1);
}
