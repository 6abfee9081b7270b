import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { loadSigningKeys } from '../../receipts/keys.js';
import { verifyReceipt } from '../../receipts/sign.js';
import { openStore } from '../../store/open.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';

/**
 * `casedrop receipt verify <file>`: proves what casedrop said it stored. A customer or auditor
 * passes `--jwks` (the upload server's /.well-known/jwks.json, or a saved copy); an operator on a
 * casedrop host needs nothing more, the keys come from the store. `--file` also checks a local
 * copy against the signed SHA-256.
 */
export function registerReceiptCommands(program: Command, ctx: CliContext): void {
  program
    .command('receipt')
    .description('signed upload receipts')
    .command('verify <receipt>')
    .description("check a receipt (the JSON a 201 answered) against casedrop's published keys")
    .option('--jwks <url|path>', "casedrop's public keys: https://<upload host>/.well-known/jwks.json or a saved copy (default: this host's store)")
    .option('--file <path>', 'also check that this file is the one the receipt names (size and SHA-256)')
    .action(async (path: string, o: { jwks?: string; file?: string }) => {
      const receipt = await readJson(path);
      const checked = await verifyReceipt(receipt, await keySet(ctx, o.jwks));
      if (!checked.ok) throw new Error(`receipt ${path}: ${checked.why}`);
      const p = checked.payload;
      if (o.file !== undefined) await checkFile(o.file, p);
      ctx.out(`valid\tcase ${String(p.case)}\t${String(p.name)}\t${String(p.size)}\t${String(p.sha256)}\t${String(p.time)}\tkey ${checked.kid}`);
    });
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8');
  if (text.length > 1 << 20) throw new UsageError(`${path} is too large to be a receipt`);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError(`${path} is not a receipt (expected the JSON object a 201 answer carries)`);
}

async function keySet(ctx: CliContext, source: string | undefined): Promise<JSONWebKeySet> {
  if (source === undefined) return (await loadSigningKeys(await openStore(ctx.config(), ctx.logger()))).jwks as JSONWebKeySet;
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
    if (!res.ok) throw new Error(`${source} answered ${res.status}`);
    return (await res.json()) as JSONWebKeySet;
  }
  return JSON.parse(await readFile(source, 'utf8')) as JSONWebKeySet;
}

async function checkFile(path: string, p: Record<string, unknown>): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  const sha256 = hash.digest('hex');
  if (size !== p.size || sha256 !== p.sha256) throw new Error(`${path} is not the file the receipt names: ${size} bytes, SHA-256 ${sha256}`);
}
