#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isCasedropError, ErrorCode } from '../errors.js';
import { createContext, ExitStatus, UsageError, type CliContext } from './context.js';
import { registerServeCommands } from './commands/serve.js';

/**
 * `casedrop serve` loads its own command only: the other commands' modules (and with them ssh2,
 * OpenPGP, BullMQ…) are imported only for a command that needs them, so a door's long-running
 * process does not carry what its role never uses.
 */
async function buildProgram(argv: readonly string[], ctx: CliContext): Promise<Command> {
  const program = new Command('casedrop').description('Safe intake of customer diagnostics into support cases').exitOverride().showHelpAfterError();
  if (argv[2] === 'serve') registerServeCommands(program, ctx);
  else (await import('./program.js')).registerCommands(program, ctx);
  return program;
}

export async function main(argv: string[], ctx: CliContext = createContext()): Promise<number> {
  try {
    await (await buildProgram(argv, ctx)).parseAsync(argv);
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
