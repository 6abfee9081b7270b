import type { Command } from 'commander';
import { describeConfig } from '../../config/load.js';
import type { CliContext } from '../context.js';

export function registerConfigCommands(program: Command, ctx: CliContext): void {
  program
    .command('config')
    .description('print the effective configuration (secrets masked)')
    .action(() => {
      for (const { env, value } of describeConfig(ctx.config())) process.stdout.write(`${env}=${value}\n`);
    });
}
