import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { countOutbox, queueCounts } from '../../../bench/lib/casedrop.mjs';
import { parseMasterKeys } from '../../../src/keys/ring.js';
import { caseFilesNamespace } from '../../../src/jobs/ids.js';
import type { Outcome } from '../../../src/jobs/types.js';
import { FsBlobBackend } from '../../../src/store/fs-backend.js';
import { EncryptedStore } from '../../../src/store/store.js';
import { CASE } from './ledger.js';

/**
 * The checks behind the door, from outside the processes: the data dir read with the instance's
 * master key (the store's own reader, so every tag is verified), the queues read from Redis.
 */
export function storeOf(env: Record<string, string | undefined>): EncryptedStore {
  // read-only use: no init(), so nothing of the running processes (their temp files) is touched
  return new EncryptedStore(new FsBlobBackend(env.CASEDROP_DATA_DIR!), parseMasterKeys(env.CASEDROP_MASTER_KEYS!), pino({ level: 'silent' }));
}

/** Reads one object to the end; its SHA-256, or the error that stopped the read. */
export async function readBack(store: EncryptedStore, id: string): Promise<{ sha256: string; bytes: Buffer } | { error: string }> {
  try {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(id)) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
  } catch (err) {
    return { error: `${(err as { code?: string }).code ?? ''} ${(err as Error).message}` };
  }
}

/** Every object in the store, read back in full: the ids that fail (a corrupt or cut object). */
export async function unreadableObjects(store: EncryptedStore): Promise<string[]> {
  const bad: string[] = [];
  for (const id of await store.list('')) {
    const r = await readBack(store, id);
    if ('error' in r) bad.push(`${id}: ${r.error}`);
  }
  return bad;
}

/** Plain files left in a directory (temp files of the store or the outbox, which must not outlive a write). */
export function leftovers(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

export interface Queues {
  redisPort: number;
  prefix: string;
}

/** True once nothing is waiting, delayed or active in any queue of the pipeline. */
export async function drained(q: Queues): Promise<boolean> {
  for (const name of ['intake', 'notify', 'outbound']) {
    if ((await queueCounts(q.redisPort, q.prefix, name)).pending > 0) return false;
  }
  return true;
}

export interface Expectation {
  env: Record<string, string | undefined>;
  queues: Queues;
  /** messageId → spool id, from the 250s of the ledger */
  accepted: Map<string, string>;
  /** SHA-256 of the attachment every message carries */
  attachmentSha256: string;
}

/**
 * The store, the queues and the outbox against the ledger, after the drain. Returns the problems
 * found (empty when all holds):
 * - exactly one outcome per 250, none for anything else, each naming the Message-ID the 250 was for;
 * - exactly one stored file per 250, whose content is the attachment sent, none for anything else;
 * - no spool object and no temp file left; every object reads back;
 * - every intake job completed and none dead-lettered; one receipt per 250 in the outbox.
 */
export async function checkAgainstLedger(e: Expectation): Promise<string[]> {
  const problems: string[] = [];
  const store = storeOf(e.env);
  const dataDir = e.env.CASEDROP_DATA_DIR!;
  const bySpool = new Map([...e.accepted].map(([messageId, spoolId]) => [spoolId, messageId]));

  problems.push(...(await checkOutcomes(store, bySpool)));
  problems.push(...(await checkFiles(store, bySpool, e.attachmentSha256)));
  const spool = await store.list('spool/');
  if (spool.length > 0) problems.push(`${spool.length} spool objects left, e.g. ${spool[0]}`);
  for (const dir of [join(dataDir, 'objects/.tmp'), join(dataDir, '.outbox-tmp')]) {
    const left = leftovers(dir);
    if (left.length > 0) problems.push(`${left.length} temp files left in ${dir}: ${left.slice(0, 3).join(', ')}`);
  }
  problems.push(...(await unreadableObjects(store)).map((s) => `unreadable object ${s}`));

  const intake = await queueCounts(e.queues.redisPort, e.queues.prefix, 'intake');
  if (intake.failed > 0) problems.push(`${intake.failed} intake jobs dead-lettered`);
  // A completed intake job beyond the 250s can only be a ghost: an add that reached Redis after its
  // door had answered 451 and removed the message, dropped by the worker without outcome or reply.
  // Each real message is one notify job, so notify must match the 250s exactly.
  if (intake.completed < e.accepted.size) problems.push(`${intake.completed} intake jobs completed for ${e.accepted.size} messages answered 250`);
  const notified = await queueCounts(e.queues.redisPort, e.queues.prefix, 'notify');
  if (notified.completed !== e.accepted.size) problems.push(`${notified.completed} notify jobs completed for ${e.accepted.size} messages answered 250`);
  for (const name of ['notify', 'outbound']) {
    const q = await queueCounts(e.queues.redisPort, e.queues.prefix, name);
    if (q.failed > 0) problems.push(`${q.failed} ${name} jobs dead-lettered`);
  }
  const receipts = countOutbox(dataDir, /-sender\.eml$/);
  if (receipts !== e.accepted.size) problems.push(`${receipts} receipts in the outbox for ${e.accepted.size} messages answered 250`);
  for (const spoolId of bySpool.keys()) {
    if (!existsSync(join(dataDir, 'outbox', `${spoolId}-sender.eml`))) problems.push(`no receipt for ${spoolId}`);
  }
  return problems;
}

async function checkOutcomes(store: EncryptedStore, bySpool: Map<string, string>): Promise<string[]> {
  const problems: string[] = [];
  const ids = await store.list('outcomes/');
  const seen = new Set<string>();
  for (const id of ids) {
    const spoolId = id.slice('outcomes/'.length);
    seen.add(spoolId);
    const expected = bySpool.get(spoolId);
    if (expected === undefined) {
      problems.push(`outcome ${spoolId} for a message that never got a 250`);
      continue;
    }
    const r = await readBack(store, id);
    if ('error' in r) continue; // reported by unreadableObjects
    const outcome = JSON.parse(r.bytes.toString('utf8')) as Outcome;
    if (outcome.messageId !== expected) problems.push(`outcome ${spoolId} is for ${outcome.messageId}, the 250 was for ${expected}`);
    if (outcome.kind !== 'stored') problems.push(`outcome ${spoolId} is ${outcome.kind}: ${JSON.stringify(outcome.refused)}`);
  }
  for (const spoolId of bySpool.keys()) if (!seen.has(spoolId)) problems.push(`no outcome for ${spoolId} (${bySpool.get(spoolId)}), which got a 250`);
  return problems;
}

async function checkFiles(store: EncryptedStore, bySpool: Map<string, string>, sha256: string): Promise<string[]> {
  const problems: string[] = [];
  const perSpool = new Map<string, number>();
  const namespace = `${caseFilesNamespace(CASE)}/`;
  for (const id of await store.list(namespace)) {
    const spoolId = id.slice(namespace.length).split('-')[0]!;
    perSpool.set(spoolId, (perSpool.get(spoolId) ?? 0) + 1);
    if (!bySpool.has(spoolId)) problems.push(`stored file ${id} for a message that never got a 250`);
    const r = await readBack(store, id);
    if (!('error' in r) && r.sha256 !== sha256) problems.push(`stored file ${id} is not the attachment sent (sha256 ${r.sha256})`);
  }
  for (const spoolId of bySpool.keys()) {
    const n = perSpool.get(spoolId) ?? 0;
    if (n !== 1) problems.push(`${n} stored files for ${spoolId} (${bySpool.get(spoolId)}), which got one 250`);
  }
  return problems;
}
