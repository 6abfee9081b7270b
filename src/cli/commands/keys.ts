import type { Command } from 'commander';
import { generateMasterKey } from '../../keys/generate.js';
import { openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';

/** `casedrop keygen` and `casedrop keys rewrap`: making and rotating master keys. */
export function registerKeysCommands(program: Command, ctx: CliContext): void {
  program
    .command('keygen')
    .description('print a new master key `id:base64` for CASEDROP_MASTER_KEYS (nothing is stored)')
    .action(() => ctx.out(generateMasterKey()));

  const keys = program.command('keys').description('master key rotation');
  keys
    .command('rewrap')
    .description("re-wrap every object's data key under the active (first) master key; prints how many objects changed")
    .action(async () => {
      const store = await openStore(ctx.config(), ctx.logger());
      ctx.out(String(await store.rewrap()));
    });
}
