import { AuditLog } from '../../audit/log.js';
import { openStore } from '../../store/open.js';
import type { Command } from 'commander';
import { assertCaseNumber } from '../../cases/number.js';
import { parseChannels, parseDuration, type UploadToken } from '../../cases/token-rules.js';
import { RedisTokenStore } from '../../cases/tokens.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/** `casedrop case token create|list|revoke`: per-case upload-only credentials for the upload drive. */
export function registerCaseTokenCommands(caseCommand: Command, ctx: CliContext): void {
  const number = (n: string) => assertCaseNumber(n, ctx.config().caseDigits);
  const tokens = () => new RedisTokenStore(ctx.redis(), ctx.config().redisPrefix, ctx.registry(), ctx.config().caseDigits);
  // who made or revoked which token (never the token) goes into the case's audit trail
  const audit = async () => new AuditLog(await openStore(ctx.config(), ctx.logger()), ctx.redis(), ctx.config().redisPrefix);
  const cmd = caseCommand.command('token').description('upload tokens: the password of an upload to a case (the user name is the case number)');
  cmd
    .command('create <number>')
    .description('make an upload token; it is printed once and only its hash is kept')
    .option('--label <text>', 'who or what uses it (a device, a colleague)', '')
    .option('--expires <duration>', 'lifetime: a number and s, m, h, d or w', '72d')
    .option('--channels <list>', 'comma-separated upload channels it opens (default: all)')
    .option('--max-bytes <n>', 'total bytes it may upload')
    .option('--operator <name>', 'who makes it, for the audit trail (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, o: { label: string; expires: string; channels?: string; maxBytes?: string; operator?: string }) => {
      const maxBytes = o.maxBytes === undefined ? undefined : positive(o.maxBytes);
      const made = await tokens().create(number(n), {
        label: o.label,
        expiresInSeconds: parseDuration(o.expires),
        ...(o.channels !== undefined ? { channels: parseChannels(o.channels) } : {}),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
      });
      const details = { tokenId: made.token.id, label: made.token.label, expires: made.token.expiresAt };
      await (
        await audit()
      ).append(n, { type: 'token-created', actor: ctx.operator(o.operator), channel: 'cli', details, eventId: `token-created:${made.token.id}` });
      ctx.out(made.secret);
      process.stderr.write(`token ${made.token.id} for case ${n} expires ${made.token.expiresAt}; it is not shown again\n`);
    });
  cmd
    .command('list <number>')
    .description('id, label, created, expires, last used, bytes uploaded, channels (never the token)')
    .action(async (n: string) => {
      for (const t of await tokens().list(number(n))) ctx.out(row(t));
    });
  cmd
    .command('revoke <number> [id]')
    .description('revoke one token, or every token of the case with --all')
    .option('--all', 'revoke every token of the case')
    .option('--operator <name>', 'who revokes it, for the audit trail (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, id: string | undefined, o: { all?: boolean; operator?: string }) => {
      if ((id === undefined) === (o.all !== true)) throw new UsageError('give a token id or --all');
      const removed = await tokens().revoke(number(n), o.all ? 'all' : id!);
      if (removed === 0 && !o.all) throw new UsageError(`case ${n} has no token ${id}`);
      if (removed > 0)
        await (
          await audit()
        ).append(n, { type: 'token-revoked', actor: ctx.operator(o.operator), channel: 'cli', details: { token: o.all ? 'all' : id!, count: removed } });
      ctx.out(`revoked ${removed}`);
    });
}

function row(t: UploadToken): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const label = t.label.replace(/[\u0000-\u001f\u007f]/g, '?');
  return [
    t.id,
    label,
    t.createdAt,
    t.expiresAt,
    t.lastUsedAt ?? '-',
    String(t.bytesUploaded),
    t.channels.join(','),
    t.maxBytes === undefined ? '-' : String(t.maxBytes),
  ].join('\t');
}

function positive(text: string): number {
  if (!/^\d{1,16}$/.test(text) || Number(text) <= 0) throw new UsageError(`--max-bytes takes a positive number of bytes, not "${text.slice(0, 40)}"`);
  return Number(text);
}
