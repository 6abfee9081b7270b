import { Option, type Command } from 'commander';
import { onShutdownSignal } from '../../lifecycle.js';
import { createLogger } from '../../log.js';
import { roles, type Role } from '../../roles.js';
import type { CliContext } from '../context.js';

/**
 * `casedrop serve`: the service. Logs go to stdout (the service's own output); the process exits 0
 * after a graceful stop on SIGTERM/SIGINT, 1 when something did not stop within the grace period.
 */
export function registerServeCommands(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the service: SMTP door, workers and HTTP side (or one of them)')
    .addOption(new Option('--role <role>', 'which part this process runs').choices(roles).default('all'))
    .action(async (opts: { role: Role }) => {
      const config = ctx.config();
      const logger = createLogger(config.logLevel);
      // loaded only here: the other commands (verify above all) should start fast
      const { serve } = await import('../../serve.js');
      const running = await serve(config, opts.role, logger);
      await new Promise<void>((resolve) => {
        onShutdownSignal(async (signal) => {
          logger.info({ signal }, 'stopping');
          const clean = await running.stop();
          logger.info({ clean }, 'stopped');
          process.exitCode = clean ? 0 : 1;
          resolve();
        });
      });
    });
}
