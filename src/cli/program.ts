import type { Command } from 'commander';
import type { CliContext } from './context.js';
// command modules register themselves here, one line each
import { registerConfigCommands } from './commands/config.js';
import { registerCaseCommands } from './commands/case.js';
import { registerCaseFileCommands } from './commands/case-files.js';
import { registerCaseAuditCommands } from './commands/case-audit.js';
import { registerCasePurgeCommands } from './commands/case-purge.js';
import { registerCaseHoldCommands, registerRetentionCommands } from './commands/retention.js';
import { registerCaseContactCommands } from './commands/case-contacts.js';
import { registerCaseKeyCommands } from './commands/case-keys.js';
import { registerCaseTokenCommands } from './commands/case-tokens.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerReceiptCommands } from './commands/receipt.js';
import { registerJobsCommands } from './commands/jobs.js';
import { registerServeCommands } from './commands/serve.js';
import { registerSpoolCommands } from './commands/spool.js';
import { registerVerifyCommands } from './commands/verify.js';

/** Every command, `serve` included (main.ts registers `serve` alone when that is the command). */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerConfigCommands(program, ctx);
  const caseCommand = registerCaseCommands(program, ctx);
  registerCaseFileCommands(caseCommand, ctx);
  registerCaseAuditCommands(caseCommand, ctx);
  registerCasePurgeCommands(caseCommand, ctx);
  registerCaseHoldCommands(caseCommand, ctx);
  registerRetentionCommands(program, ctx);
  registerCaseContactCommands(caseCommand, ctx);
  registerCaseTokenCommands(caseCommand, ctx);
  registerCaseKeyCommands(caseCommand, ctx);
  registerKeysCommands(program, ctx);
  registerReceiptCommands(program, ctx);
  registerJobsCommands(program, ctx);
  registerServeCommands(program, ctx);
  registerSpoolCommands(program, ctx);
  registerVerifyCommands(program, ctx);
}
