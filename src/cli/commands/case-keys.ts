import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/log.js';
import { assertCaseNumber } from '../../cases/number.js';
import { MAX_PUB_FILE_BYTES, type SshKey } from '../../cases/ssh-key-rules.js';
import { RedisSshKeyStore } from '../../cases/ssh-keys.js';
import { openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop case key add|list|remove`: SSH public keys that log in to a case's SFTP/SCP drive. */
export function registerCaseKeyCommands(caseCommand: Command, ctx: CliContext): void {
  const number = (n: string) => assertCaseNumber(n, ctx.config().caseDigits);
  const keys = () => new RedisSshKeyStore(ctx.redis(), ctx.config().redisPrefix, ctx.registry(), ctx.config().caseDigits);
  // who added or removed which key (its fingerprint, never more) goes into the case's audit trail
  const audit = async () => new AuditLog(await openStore(ctx.config(), ctx.logger()), ctx.redis(), ctx.config().redisPrefix);
  const cmd = caseCommand.command('key').description('SSH public keys that may log in to the upload drive as the case (SFTP/SCP)');
  cmd
    .command('add <number> <file.pub>')
    .description('register a public key (ed25519, ecdsa, rsa ≥ 2048 bits) for SFTP/SCP uploads to the case')
    .option('--label <text>', 'who or what uses it (default: the comment in the .pub file)')
    .option('--operator <name>', 'who adds it, for the audit trail (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, file: string, o: { label?: string; operator?: string }) => {
      // never read a mistaken huge file whole: a .pub file is one short line
      const size = (await stat(file).catch(() => undefined))?.size ?? 0;
      if (size > MAX_PUB_FILE_BYTES) throw new UsageError(`${file} has ${size} bytes: a .pub file is one line of a few KB`);
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
      });
      const key = await keys().add(number(n), text, o.label);
      const details = { keyId: key.id, label: key.label, type: key.type, fingerprint: key.fingerprint };
      await (await audit()).append(n, { type: 'key-added', actor: ctx.operator(o.operator), channel: 'cli', details, eventId: `key-added:${key.id}` });
      ctx.out(row(key));
    });
  cmd
    .command('list <number>')
    .description('id, label, type, SHA256 fingerprint (as ssh-keygen -lf prints it), added, last used')
    .action(async (n: string) => {
      for (const k of await keys().list(number(n))) ctx.out(row(k));
    });
  cmd
    .command('remove <number> [id]')
    .description('remove one key, or every key of the case with --all')
    .option('--all', 'remove every key of the case')
    .option('--operator <name>', 'who removes it, for the audit trail (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, id: string | undefined, o: { all?: boolean; operator?: string }) => {
      if ((id === undefined) === (o.all !== true)) throw new UsageError('give a key id or --all');
      const removed = await keys().remove(number(n), o.all ? 'all' : id!);
      if (removed === 0 && !o.all) throw new UsageError(`case ${n} has no key ${id}`);
      if (removed > 0)
        await (
          await audit()
        ).append(n, { type: 'key-removed', actor: ctx.operator(o.operator), channel: 'cli', details: { key: o.all ? 'all' : id!, count: removed } });
      ctx.out(`removed ${removed}`);
    });
}

function row(k: SshKey): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const label = k.label.replace(/[\u0000-\u001f\u007f]/g, '?');
  return [k.id, label, k.type, k.fingerprint, k.addedAt, k.lastUsedAt ?? '-'].join('\t');
}
