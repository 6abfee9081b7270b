import { createHash } from 'node:crypto';
import type { AuditEvent, AuditSink } from '../audit/types.js';
import { Readable } from 'node:stream';
import { CasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { filesProcessed } from '../metrics.js';
import { sanitizeFilename } from '../pipeline/filenames.js';
import { caseFilesNamespace } from '../jobs/ids.js';
import type { NameRegistry } from '../pipeline/stored-names.js';
import type { RangeReader } from '../store/range.js';
import type { ObjectStore } from '../store/types.js';
import type { VerifyInput, VerifyResult } from '../verify/types.js';
import { digestParts, openPartsRange } from './parts.js';
import { verdictRecordId, writeVerdictRecord } from './records.js';
import type { AdmittedFile, Arrival, Channel } from './types.js';

/**
 * The one way a file becomes part of a case: a stored name from the shared sanitiser and the
 * case's name registry, the shared verifier's verdict, the encrypted store, and the record the
 * engineer's file list reads (channel and token label included). Channels differ only in when
 * the verdict is known: mail holds an attachment in memory and judges it first; an upload of any
 * size is streamed into the store first and judged by reading it back from there; its stored
 * name and verdict then go into a small record beside it (an object's metadata is sealed in its
 * header, before its content).
 */
export interface IntakeFileDeps {
  store: ObjectStore;
  names: NameRegistry;
  verify: (input: VerifyInput) => Promise<VerifyResult>;
  logger: Logger;
  /** the case's audit trail: uploads are recorded here (mail records a whole message at once, in the intake worker) */
  audit?: AuditSink;
  /** the engineer's upload notice (src/notify/upload-notice.ts): each upload joins its case's next one */
  notice?: (file: AdmittedFile) => Promise<void>;
}

export interface StreamDeps extends IntakeFileDeps {
  store: ObjectStore & { openRange(id: string): Promise<RangeReader> };
  /** channels on which only verified encrypted archives are kept (as on email) */
  requireEncrypted: readonly Channel[];
}

export async function storedNameFor(names: NameRegistry, arrival: Arrival): Promise<string> {
  return names.reserve(arrival.caseNumber, arrival.fileId, sanitizeFilename(arrival.originalName));
}

/** A file already judged and held in memory (an email attachment). Idempotent by `fileId`. */
export async function admitBuffer(arrival: Arrival, content: Buffer, verdict: VerifyResult, deps: IntakeFileDeps): Promise<AdmittedFile> {
  const storedName = await storedNameFor(deps.names, arrival);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const file = admitted(arrival, storedName, { size: content.length, sha256 }, verdict, true);
  // hashed here for the header's metadata: the store seals that digest instead of hashing again
  await deps.store.put(caseFilesNamespace(arrival.caseNumber), Readable.from([content]), fileMeta(file, arrival, verdict), { name: arrival.fileId, sha256 });
  return file;
}

/**
 * A file of any size arriving as a stream (an upload): stored first, at constant memory, then
 * verified from the store, then named and recorded. When the channel requires
 * encrypted archives and the verdict is a refusal, both are removed again and `kept` is false.
 * The stream's own failures (client gone, disk full) propagate after the partial object is gone;
 * so does a content that differs from the digest the client announced (DIGEST_MISMATCH).
 */
export async function admitStream(
  arrival: Arrival,
  body: Readable | AsyncIterable<Uint8Array>,
  deps: StreamDeps,
  expectSha256?: string,
): Promise<AdmittedFile> {
  // no stored name yet: a failed or refused upload must not take a name from the case
  const pending = admitted(arrival, '', { size: 0, sha256: '' }, undefined, true);
  const put = await deps.store.put(caseFilesNamespace(arrival.caseNumber), body, fileMeta(pending, arrival, undefined), { name: arrival.fileId });
  if (expectSha256 !== undefined && expectSha256 !== put.sha256) {
    await deps.store.delete(put.id);
    throw new CasedropError(ErrorCode.DigestMismatch, `the content's SHA-256 is ${put.sha256}, the client said ${expectSha256}`);
  }
  const verdict = await deps.verify({ name: arrival.originalName, source: await deps.store.openRange(put.id) });
  const keep = verdict.verdict === 'accept' || !deps.requireEncrypted.includes(arrival.channel);
  filesProcessed.inc({ verdict: verdict.verdict, reason: verdict.reason });
  if (!keep) {
    await deps.store.delete(put.id);
    deps.logger.info(
      { caseNumber: arrival.caseNumber, fileId: arrival.fileId, channel: arrival.channel, reason: verdict.reason },
      'upload refused by the channel policy; nothing kept',
    );
    return audited(admitted(arrival, '', put, verdict, false), arrival, deps);
  }
  const file = admitted(arrival, await storedNameFor(deps.names, arrival), put, verdict, true);
  await writeVerdictRecord(deps.store, arrival, file.storedName, verdict);
  return audited(file, arrival, deps);
}

/**
 * A file already in the store as parts (an upload: one part when it arrived in one request,
 * several when it was resumed). The case gets a manifest naming the parts instead of a copy, its
 * stored name and verdict sealed in it (no separate verdict record); verification reads across them. `known` is the size and SHA-256 when a single request measured
 * them; otherwise one read pass computes them. DIGEST_MISMATCH as for admitStream (the parts stay:
 * the caller decides whether to drop them).
 */
export async function admitParts(
  arrival: Arrival,
  parts: readonly string[],
  deps: StreamDeps,
  known?: { size: number; sha256: string },
  expectSha256?: string,
): Promise<AdmittedFile> {
  const content = known ?? (await digestParts(deps.store, parts));
  if (expectSha256 !== undefined && expectSha256 !== content.sha256) {
    throw new CasedropError(ErrorCode.DigestMismatch, `the content's SHA-256 is ${content.sha256}, the client said ${expectSha256}`);
  }
  const verdict = await deps.verify({ name: arrival.originalName, source: await openPartsRange(deps.store, parts) });
  const keep = verdict.verdict === 'accept' || !deps.requireEncrypted.includes(arrival.channel);
  filesProcessed.inc({ verdict: verdict.verdict, reason: verdict.reason });
  if (!keep) return audited(admitted(arrival, '', content, verdict, false), arrival, deps);
  const file = admitted(arrival, await storedNameFor(deps.names, arrival), content, verdict, true);
  // judged before the manifest is written, so the manifest carries the verdict: one object, one commit
  const manifest = { ...fileMeta(file, arrival, verdict), parts };
  await deps.store.put(caseFilesNamespace(arrival.caseNumber), Readable.from([]), manifest, { name: arrival.fileId });
  return audited(file, arrival, deps);
}

/** Appends the upload's fate to the case's audit trail, once per file (the event id is the file's), and tells the engineer. */
async function audited(file: AdmittedFile, arrival: Arrival, deps: IntakeFileDeps): Promise<AdmittedFile> {
  if (!deps.audit) return noticed(file, deps);
  const actor = arrival.token ? `token ${arrival.token.label || arrival.token.id}` : arrival.channel;
  const described = {
    id: file.id,
    originalName: file.originalName,
    size: file.size,
    sha256: file.sha256,
    ...(file.storedName ? { storedName: file.storedName } : {}),
  };
  const event: AuditEvent = file.kept
    ? { type: 'stored', actor, channel: arrival.channel, file: described, eventId: `stored:${file.id}` }
    : { type: 'refused', actor, channel: arrival.channel, file: described, reason: file.reason, eventId: `refused:${file.id}` };
  await deps.audit.append(arrival.caseNumber, event);
  return noticed(file, deps);
}

/**
 * Queues the file for its engineer notice. The file is in the case already: a failure here must not
 * fail the upload (its caller would drop the parts the case's file is made of), so it is logged.
 */
async function noticed(file: AdmittedFile, deps: IntakeFileDeps): Promise<AdmittedFile> {
  try {
    await deps.notice?.(file);
  } catch (err) {
    deps.logger.error(
      { caseNumber: file.caseNumber, fileId: file.fileId, err: (err as Error).message, event: 'upload_notice_lost' },
      'upload notice not queued',
    );
  }
  return file;
}

/** Undoes a stream admission whose caller failed afterwards (e.g. a digest mismatch): nothing stays. */
export async function withdraw(store: ObjectStore, file: Pick<AdmittedFile, 'caseNumber' | 'fileId'>): Promise<void> {
  await store.delete(`${caseFilesNamespace(file.caseNumber)}/${file.fileId}`);
  await store.delete(verdictRecordId(file.caseNumber, file.fileId));
}

function admitted(
  arrival: Arrival,
  storedName: string,
  content: { size: number; sha256: string },
  verdict: VerifyResult | undefined,
  kept: boolean,
): AdmittedFile {
  return {
    id: `${caseFilesNamespace(arrival.caseNumber)}/${arrival.fileId}`,
    fileId: arrival.fileId,
    caseNumber: arrival.caseNumber,
    originalName: arrival.originalName ?? '',
    storedName,
    size: content.size,
    sha256: content.sha256,
    format: verdict?.format ?? 'unknown',
    ...(verdict?.cipher !== undefined ? { cipher: verdict.cipher } : {}),
    verdict: verdict?.verdict ?? 'reject',
    reason: verdict?.reason ?? 'pending',
    advice: verdict?.advice ?? '',
    channel: arrival.channel,
    ...(arrival.token ? { tokenLabel: arrival.token.label } : {}),
    receivedAt: arrival.receivedAt,
    kept,
  };
}

/** Sealed in the object's header; for a stream the verdict is not known yet and lives in the record. */
function fileMeta(file: AdmittedFile, arrival: Arrival, verdict: VerifyResult | undefined): Record<string, unknown> {
  return {
    kind: 'file',
    id: file.fileId,
    originalName: file.originalName,
    ...(file.storedName !== '' ? { storedName: file.storedName } : {}),
    ...(verdict ? { size: file.size, sha256: file.sha256, format: verdict.format } : {}),
    ...(verdict?.cipher !== undefined ? { cipher: verdict.cipher } : {}),
    ...arrival.extra,
    ...(verdict ? { verdict: { verdict: verdict.verdict, reason: verdict.reason, details: verdict.details } } : {}),
    receivedAt: arrival.receivedAt,
    channel: arrival.channel,
    ...(arrival.token ? { tokenId: arrival.token.id, tokenLabel: arrival.token.label } : {}),
  };
}
