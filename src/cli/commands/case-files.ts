import { createWriteStream } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/log.js';
import type { AuditSink } from '../../audit/types.js';
import { assertCaseNumber } from '../../cases/number.js';
import { readParts } from '../../intake/parts.js';
import { fileView } from '../../intake/records.js';
import { caseFilesNamespace, caseNotesNamespace } from '../../jobs/ids.js';
import { openArchive, openStore } from '../../store/open.js';
import type { ObjectInfo, ObjectStore } from '../../store/types.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/**
 * `casedrop case files|get|notes`: what an engineer does with a case's stored files. Registered on
 * the `case` sub-command by src/cli/commands/case.ts; the actions are exported for tests.
 */
export function registerCaseFileCommands(caseCommand: Command, ctx: CliContext): void {
  const number = (n: string) => assertCaseNumber(n, ctx.config().caseDigits);
  const store = () => openStore(ctx.config(), ctx.logger());
  const archive = () => openArchive(ctx.config(), ctx.logger());
  caseCommand
    .command('files <number>')
    .description(
      'list the stored files of a case: name, size, SHA-256, format/cipher, sender, received, channel, token label, how the sender was authenticated (then `archived` for files retention moved to the archive)',
    )
    .action(async (n: string) => {
      await listCaseFiles(ctx, await store(), number(n));
      await listCaseFiles(ctx, await archive(), number(n), '\tarchived');
    });
  caseCommand
    .command('get <number> <file>')
    .description('decrypt one stored file (by stored name or id) to a path')
    .requiredOption('-o, --output <path>', 'where to write it (an existing file is not overwritten)')
    .option('--operator <name>', 'who downloads it, for the audit trail (default: $CASEDROP_OPERATOR or the OS user)')
    .action(async (n: string, file: string, opts: { output: string; operator?: string }) => {
      const s = await store();
      const audited = { audit: new AuditLog(s, ctx.redis(), ctx.config().redisPrefix), actor: ctx.operator(opts.operator) };
      const live = await findFile(s, number(n), file).catch((err: unknown) => {
        if (err instanceof UsageError) return undefined;
        throw err;
      });
      // an archived file is read from the archive (its own directory and keys): slower, same command
      await getCaseFile(ctx, live ? s : await archive(), number(n), file, opts.output, audited);
    });
  caseCommand
    .command('notes <number>')
    .description('print the message texts kept as notes of a case (archived ones after the live ones)')
    .action(async (n: string) => {
      await printCaseNotes(ctx, await store(), number(n));
      await printCaseNotes(ctx, await archive(), number(n));
    });
}

async function heads(store: ObjectStore, prefix: string, view = false): Promise<ObjectInfo[]> {
  const infos: ObjectInfo[] = [];
  for (const id of await store.list(prefix)) {
    const info = await store.head(id);
    // a file's list entry: an upload's stored name and verdict are in its record (src/intake/records.ts)
    infos.push(view ? { ...info, meta: await fileView(store, info) } : info);
  }
  return infos.sort((a, b) => String(a.meta.receivedAt ?? '').localeCompare(String(b.meta.receivedAt ?? '')));
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Names come from customers: keep tabs and line breaks out so one file stays one line. */
// eslint-disable-next-line no-control-regex -- control characters are what this removes
const cell = (v: unknown): string => str(v).replace(/[\u0000-\u001f\u007f]/g, '?');

export async function listCaseFiles(ctx: CliContext, store: ObjectStore, caseNumber: string, suffix = ''): Promise<void> {
  for (const info of await heads(store, `${caseFilesNamespace(caseNumber)}/`, true)) {
    const m = info.meta;
    const kind = [str(m.format), str(m.cipher)].filter((x) => x !== '').join('/');
    // an upload has no sender address: its token's label says who sent it
    const from = cell(m.sender) || cell(m.clientAddress);
    // a resumed upload's entry is a manifest of parts: its size and digest are the whole file's
    const size = Array.isArray(m.parts) ? Number(m.size) : info.size;
    const sha256 = Array.isArray(m.parts) ? str(m.sha256) : info.sha256;
    // how a mail's sender was authenticated ("DMARC pass (example.com)", "SPF fail, no DKIM"); `-` for uploads and older files
    const columns = [
      cell(m.storedName),
      String(size),
      sha256,
      kind,
      from,
      str(m.receivedAt),
      str(m.channel) || 'email',
      cell(m.tokenLabel) || '-',
      cell(m.authentication) || '-',
    ];
    ctx.out(columns.join('\t') + suffix);
  }
}

/** Every download is in the case's audit trail, with who and when. */
export async function getCaseFile(
  ctx: CliContext,
  store: ObjectStore,
  caseNumber: string,
  file: string,
  output: string,
  audited?: { audit: AuditSink; actor: string },
): Promise<void> {
  const info = await findFile(store, caseNumber, file);
  const parts = Array.isArray(info.meta.parts) ? (info.meta.parts as string[]) : undefined;
  await pipeline(parts ? readParts(store, parts) : await store.get(info.id), createWriteStream(output, { flags: 'wx', mode: 0o600 }));
  const size = parts ? Number(info.meta.size) : info.size;
  const sha256 = parts ? String(info.meta.sha256) : info.sha256;
  const described = { id: info.id, storedName: str(info.meta.storedName), size, sha256 };
  await audited?.audit.append(caseNumber, { type: 'downloaded', actor: audited.actor, channel: 'cli', file: described });
  ctx.out(`${output}\t${size}\t${sha256}`);
}

async function findFile(store: ObjectStore, caseNumber: string, file: string): Promise<ObjectInfo> {
  const all = await heads(store, `${caseFilesNamespace(caseNumber)}/`, true);
  const found = all.find((i) => i.meta.storedName === file) ?? all.find((i) => i.id === file || i.id.endsWith(`/${file}`));
  if (!found) throw new UsageError(`case ${caseNumber} has no file "${file}" (see: casedrop case files ${caseNumber})`);
  return found;
}

export async function printCaseNotes(ctx: CliContext, store: ObjectStore, caseNumber: string): Promise<void> {
  for (const info of await heads(store, `${caseNotesNamespace(caseNumber)}/`)) {
    const m = info.meta;
    ctx.out(
      `--- ${str(m.receivedAt)} from ${cell(m.from) || cell(m.sender)}${m.subject ? ` — ${cell(m.subject)}` : ''}${m.truncated === true ? ' (truncated)' : ''}`,
    );
    ctx.out((await buffer(await store.get(info.id))).toString('utf8'));
  }
}
