#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isCasedropError, ErrorCode } from '../errors.js';
import { createContext, ExitStatus, UsageError, type CliContext } from './context.js';
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

export function buildProgram(ctx: CliContext = createContext()): Command {
  const program = new Command('casedrop').description('Safe intake of customer diagnostics into support cases').exitOverride().showHelpAfterError();
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
  return program;
}

export async function main(argv: string[], ctx: CliContext = createContext()): Promise<number> {
  try {
    await buildProgram(ctx).parseAsync(argv);
    return 0;
  } catch (err) {
    return exitCodeFor(err);
  } finally {
    await ctx.close();
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof ExitStatus) return err.code;
  if (err instanceof CommanderError) {
    // help and version are "errors" to commander but success to the user
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    return 2;
  }
  const usage = err instanceof UsageError || isCasedropError(err, ErrorCode.UsageInvalid) || isCasedropError(err, ErrorCode.CaseNumberInvalid);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`casedrop: ${message.split('\n')[0]}\n`);
  return usage ? 2 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly || process.argv[1]?.endsWith('/casedrop')) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
