import type { Command } from 'commander';
import { assertCaseNumber } from '../../cases/number.js';
import { RedisCaseContacts } from '../../cases/contacts.js';
import type { CliContext } from '../context.js';

/**
 * `casedrop case contact add|list|remove <case> <address|@domain>`: the senders a case accepts.
 * Once a case has contacts, the SMTP door refuses every other sender for it (550 5.7.1).
 */
export function registerCaseContactCommands(caseCommand: Command, ctx: CliContext): void {
  const contact = caseCommand.command('contact').description('senders a case accepts: addresses or @domains (none set: anyone)');
  const number = (n: string) => assertCaseNumber(n, ctx.config().caseDigits);
  const contacts = () => new RedisCaseContacts(ctx.redis(), ctx.config().redisPrefix, ctx.config().caseDigits);
  const existing = async (n: string) => {
    if (!(await ctx.registry().get(number(n)))) throw new Error(`case ${n} does not exist`);
    return n;
  };
  contact
    .command('add <number> <entry>')
    .description('allow a sender address (name@domain) or a whole domain (@domain)')
    .action(async (n: string, entry: string) => ctx.out(await contacts().add(await existing(n), entry)));
  contact
    .command('list <number>')
    .description('list the allowed senders')
    .action(async (n: string) => {
      for (const e of await contacts().list(number(n))) ctx.out(e);
    });
  contact
    .command('remove <number> <entry>')
    .description('remove an allowed sender')
    .action(async (n: string, entry: string) => {
      if (!(await contacts().remove(number(n), entry))) throw new Error(`"${entry}" is not a contact of case ${n}`);
      ctx.out(entry.trim().toLowerCase());
    });
}
