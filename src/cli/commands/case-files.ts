import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { assertCaseNumber } from '../../cases/number.js';
import { readParts } from '../../intake/parts.js';
import { fileView } from '../../intake/records.js';
import { caseFilesNamespace, caseNotesNamespace } from '../../jobs/ids.js';
import { openStore } from '../../store/open.js';
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
  caseCommand
    .command('files <number>')
    .description('list the stored files of a case: name, size, SHA-256, format/cipher, sender, received, channel, token label')
    .action(async (n: string) => listCaseFiles(ctx, await store(), number(n)));
  caseCommand
    .command('get <number> <file>')
    .description('decrypt one stored file (by stored name or id) to a path')
    .requiredOption('-o, --output <path>', 'where to write it (an existing file is not overwritten)')
    .action(async (n: string, file: string, opts: { output: string }) => getCaseFile(ctx, await store(), number(n), file, opts.output));
  caseCommand
    .command('notes <number>')
    .description('print the message texts kept as notes of a case')
    .action(async (n: string) => printCaseNotes(ctx, await store(), number(n)));
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
const cell = (v: unknown): string => str(v).replace(/[\u0000-\u001f\u007f]/g, '?');

export async function listCaseFiles(ctx: CliContext, store: ObjectStore, caseNumber: string): Promise<void> {
  for (const info of await heads(store, `${caseFilesNamespace(caseNumber)}/`, true)) {
    const m = info.meta;
    const kind = [str(m.format), str(m.cipher)].filter((x) => x !== '').join('/');
    // an upload has no sender address: its token's label says who sent it
    const from = cell(m.sender) || cell(m.clientAddress);
    // a resumed upload's entry is a manifest of parts: its size and digest are the whole file's
    const size = Array.isArray(m.parts) ? Number(m.size) : info.size;
    const sha256 = Array.isArray(m.parts) ? str(m.sha256) : info.sha256;
    ctx.out([cell(m.storedName), String(size), sha256, kind, from, str(m.receivedAt), str(m.channel) || 'email', cell(m.tokenLabel)].join('\t').trimEnd());
  }
}

export async function getCaseFile(ctx: CliContext, store: ObjectStore, caseNumber: string, file: string, output: string): Promise<void> {
  const info = await findFile(store, caseNumber, file);
  const parts = Array.isArray(info.meta.parts) ? (info.meta.parts as string[]) : undefined;
  await pipeline(parts ? readParts(store, parts) : await store.get(info.id), createWriteStream(output, { flags: 'wx', mode: 0o600 }));
  ctx.out(parts ? `${output}\t${String(info.meta.size)}\t${String(info.meta.sha256)}` : `${output}\t${info.size}\t${info.sha256}`);
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
    ctx.out(`--- ${str(m.receivedAt)} from ${cell(m.from) || cell(m.sender)}${m.subject ? ` — ${cell(m.subject)}` : ''}${m.truncated === true ? ' (truncated)' : ''}`);
    const chunks: Buffer[] = [];
    for await (const c of await store.get(info.id)) chunks.push(c as Buffer);
    ctx.out(Buffer.concat(chunks).toString('utf8'));
  }
}
