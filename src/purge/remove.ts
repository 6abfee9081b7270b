import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { AuditSink } from '../audit/types.js';
import { isCasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { caseNotesNamespace, outcomeId, pendingRemovalNamespace } from '../jobs/ids.js';
import type { Outcome } from '../jobs/types.js';
import { redisKey } from '../redis-keys.js';
import type { EncryptedStore } from '../store/store.js';
import { removalNote, removalNoteName } from './note.js';
import type { PendingRemoval } from './types.js';

export type RemovalStep = 'after-record' | 'after-key' | 'after-object' | 'after-derived' | 'after-note' | 'after-audit';

export interface RemovalDeps {
  live: EncryptedStore;
  archive: EncryptedStore;
  redis: Redis;
  prefix: string;
  audit: AuditSink;
  logger: Logger;
  /** test-only crash points (CASEDROP_TEST_CRASH_AT) */
  checkpoint?: (step: RemovalStep) => void;
}

const pendingNamespace = pendingRemovalNamespace;
const fileName = (id: string): string => id.slice(id.lastIndexOf('/') + 1);

/**
 * Removes one file for good, in steps that can each be redone: record the intent, destroy the key
 * (from here on no copy decrypts), delete the object, drop what was derived from it (stored-name
 * reservation, the outcome's entry becomes a tombstone), leave the case note and the audit entry,
 * then drop the record. A run killed anywhere is finished by `resumeRemovals`.
 */
export async function removeFile(r: PendingRemoval, deps: RemovalDeps): Promise<void> {
  const pendingId = `${pendingNamespace(r.caseNumber)}/${fileName(r.file.id)}`;
  if (!(await deps.live.exists(pendingId))) {
    await deps.live.put(pendingNamespace(r.caseNumber), Readable.from([JSON.stringify(r)]), { kind: 'pending-removal' }, { name: fileName(r.file.id) });
  }
  deps.checkpoint?.('after-record');
  await finishRemoval(r, deps);
  await deps.live.delete(pendingId);
}

async function finishRemoval(r: PendingRemoval, deps: RemovalDeps): Promise<void> {
  const { id } = r.file;
  // both stores: a file may sit in both for a moment while it is being archived
  await deps.live.shred?.destroy(id);
  await deps.archive.shred?.destroy(id);
  deps.checkpoint?.('after-key');
  // a resumed upload's segments hold its content: each has its own key, destroyed with it
  for (const part of r.file.parts ?? []) await deps.live.shredObject(part);
  await deps.live.delete(id);
  await deps.archive.delete(id);
  deps.checkpoint?.('after-object');
  await releaseStoredName(r, deps);
  await tombstoneOutcome(r, deps);
  deps.checkpoint?.('after-derived');
  const note = removalNote(r);
  const subject = r.kind === 'purge' ? `File purged: ${r.file.storedName}` : `File deleted by retention: ${r.file.storedName}`;
  const noteMeta = { kind: 'note', channel: r.kind, from: r.operator, subject, receivedAt: r.requestedAt, requestedBy: r.requestedBy, operator: r.operator };
  await deps.live.put(caseNotesNamespace(r.caseNumber), Readable.from([Buffer.from(note, 'utf8')]), noteMeta, { name: removalNoteName(fileName(id)) });
  deps.checkpoint?.('after-note');
  const f = r.file;
  await deps.audit.append(r.caseNumber, {
    type: r.kind === 'purge' ? 'purged' : 'retention-deleted',
    actor: r.operator,
    channel: 'cli',
    file: { id, storedName: f.storedName, originalName: f.originalName, size: f.size, sha256: f.sha256 },
    reason: r.reason,
    details: { requestedBy: r.requestedBy, location: f.location, format: f.format },
    eventId: `removed:${id}`,
  });
  deps.checkpoint?.('after-audit');
  deps.logger.info({ caseNumber: r.caseNumber, objectId: id, kind: r.kind, event: 'file_removed' }, 'file removed and its key destroyed');
}

/** Finishes every removal a killed run left (all cases when `caseNumber` is undefined); returns them. */
export async function resumeRemovals(deps: RemovalDeps, caseNumber?: string): Promise<PendingRemoval[]> {
  const done: PendingRemoval[] = [];
  for (const pendingId of await deps.live.list(caseNumber ? `${pendingNamespace(caseNumber)}/` : 'purges/')) {
    const chunks: Buffer[] = [];
    for await (const c of await deps.live.get(pendingId)) chunks.push(c as Buffer);
    const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PendingRemoval;
    await finishRemoval(r, deps);
    await deps.live.delete(pendingId);
    done.push(r);
  }
  return done;
}

/**
 * The name goes back to the pool, and with it every trace of it in Redis: the file's reservation,
 * and the duplicate counter of the name it was sent as once no file of the case uses that name.
 */
async function releaseStoredName(r: PendingRemoval, deps: RemovalDeps): Promise<void> {
  const byFile = redisKey.caseNamesByFile(deps.prefix, r.caseNumber);
  const byName = redisKey.caseNamesByName(deps.prefix, r.caseNumber);
  const next = redisKey.caseNamesNext(deps.prefix, r.caseNumber);
  const fid = fileName(r.file.id);
  if ((await deps.redis.hget(byName, r.file.storedName)) === fid) await deps.redis.hdel(byName, r.file.storedName);
  await deps.redis.hdel(byFile, fid);
  const remaining = await deps.redis.hkeys(byName);
  for (const wanted of await deps.redis.hkeys(next)) {
    const dot = wanted.lastIndexOf('.');
    const stem = dot > 0 ? wanted.slice(0, dot) : wanted;
    if (!remaining.some((n) => n === wanted || n.startsWith(`${stem} (`))) await deps.redis.hdel(next, wanted);
  }
}

/** The outcome keeps the fact (name, size, SHA-256, when it was removed), not the file's other details. */
async function tombstoneOutcome(r: PendingRemoval, deps: RemovalDeps): Promise<void> {
  if (!r.file.spoolId) return;
  const id = outcomeId(r.file.spoolId);
  let outcome: Outcome;
  try {
    const chunks: Buffer[] = [];
    for await (const c of await deps.live.get(id)) chunks.push(c as Buffer);
    outcome = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Outcome;
  } catch (err) {
    if (isCasedropError(err, ErrorCode.ObjectNotFound)) return;
    throw err;
  }
  let changed = false;
  outcome.stored = outcome.stored.map((f) => {
    if (f.id !== r.file.id || f.removedAt) return f;
    changed = true;
    return {
      id: f.id,
      storedName: f.storedName,
      originalName: '',
      size: f.size,
      sha256: f.sha256,
      format: 'removed',
      removedAt: r.requestedAt,
      removal: r.kind,
    };
  });
  if (!changed) return;
  const info = await deps.live.head(id);
  await deps.live.put('outcomes', Readable.from([Buffer.from(JSON.stringify(outcome))]), info.meta, { name: r.file.spoolId });
}
