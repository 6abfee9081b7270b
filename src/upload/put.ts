import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenStore } from '../cases/tokens.js';
import { CasedropError, ErrorCode, isCasedropError, isDiskFull } from '../errors.js';
import { newId } from '../ids.js';
import { admitParts, type StreamDeps } from '../intake/admit.js';
import type { AdmittedFile, Channel } from '../intake/types.js';
import type { Logger } from '../log.js';
import { uploadBytes, uploads } from '../metrics.js';
import { release } from '../release.js';
import type { EventSink } from './events.js';
import type { Admission } from './gate.js';
import { reprDigest } from './headers.js';
import type { PartialUpload, Partials } from './partials.js';
import { refusal, type UploadRefusal } from './replies.js';
import { appendSegment, dropStaging } from './staging.js';
import type { CaseUsage } from './usage.js';

/**
 * One admitted upload: the body goes straight from the socket into the encrypted store (no body
 * parser, no buffer, no plaintext on disk), metered against the upload's allowance, as the first
 * segment of the upload (src/upload/staging.ts). Complete: the shared intake makes it a case file
 * and the client gets the signed receipt. Cut off with a known length: what arrived is kept for a
 * resume (HEAD + PATCH, src/upload/resume.ts). Any other failure removes what was written.
 */
export interface PutDeps {
  intake: StreamDeps;
  tokens: TokenStore;
  usage: CaseUsage;
  partials: Partials;
  partialTtlSeconds: number;
  logger: Logger;
  /** webhook events (src/upload/events.ts); none when absent */
  events?: EventSink;
  /** signs the receipt (src/receipts/sign.ts); unsigned when absent */
  sign?: (receipt: Receipt) => Promise<string>;
}

export interface Receipt {
  case: string;
  name: string;
  originalName: string;
  size: number;
  sha256: string;
  verdict: AdmittedFile['verdict'];
  reason: string;
  format: string;
  cipher?: string;
  channel: Channel;
  tokenLabel: string;
  fileId: string;
  time: string;
}

export function receiptOf(file: AdmittedFile, time: string): Receipt {
  return {
    case: file.caseNumber,
    name: file.storedName,
    originalName: file.originalName,
    size: file.size,
    sha256: file.sha256,
    verdict: file.verdict,
    reason: file.reason,
    format: file.format,
    ...(file.cipher !== undefined ? { cipher: file.cipher } : {}),
    channel: file.channel,
    tokenLabel: file.tokenLabel ?? '',
    fileId: file.fileId,
    time,
  };
}

export async function storeUpload(
  req: IncomingMessage,
  res: ServerResponse,
  a: Admission,
  channel: Channel,
  clientAddress: string,
  deps: PutDeps,
): Promise<void> {
  const now = new Date();
  const upload: PartialUpload = {
    id: newId(),
    caseNumber: a.caseNumber,
    tokenId: a.token.id,
    tokenLabel: a.token.label,
    name: a.name,
    length: a.declaredLength ?? -1,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.partialTtlSeconds * 1000).toISOString(),
    clientAddress,
    ...(a.expectSha256 !== undefined ? { expectSha256: a.expectSha256 } : {}),
  };
  const log = deps.logger.child({ caseNumber: a.caseNumber, fileId: upload.id, tokenId: a.token.id, clientAddress });
  // only a body of known length can be resumed: the rest of it is what HEAD tells the client to send
  const cut = { happened: false, resumable: a.declaredLength !== undefined };
  let segment;
  try {
    segment = await appendSegment(deps.intake.store, upload.id, 0, metered(req, a.allowance, cut), { caseNumber: a.caseNumber });
  } catch (err) {
    return fail(res, err, a.allowanceCode, a.allowance, channel, log);
  }
  if (cut.happened || segment.size < upload.length) {
    await deps.partials.save(upload);
    uploads.inc({ channel, result: 'partial' });
    log.info({ event: 'upload_partial', offset: segment.size, length: upload.length }, 'upload cut off; kept for a resume');
    return;
  }
  await completeUpload(res, upload, [segment.id], { size: segment.size, sha256: segment.sha256 }, channel, deps, log);
}

/** The last bytes are in: the parts become a case file, the client gets the receipt. */
export async function completeUpload(
  res: ServerResponse,
  upload: PartialUpload,
  parts: string[],
  known: { size: number; sha256: string } | undefined,
  channel: Channel,
  deps: PutDeps,
  log: Logger,
): Promise<void> {
  const answer = await finishUpload(upload, parts, known, channel, deps, log);
  send(res, answer.status, answer.body, answer.headers);
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** The same for every resumable channel (a PATCH on /home/, tus): the answer to the last request. */
export async function finishUpload(
  upload: PartialUpload,
  parts: string[],
  known: { size: number; sha256: string } | undefined,
  channel: Channel,
  deps: PutDeps,
  log: Logger,
): Promise<Answer> {
  const arrival = {
    caseNumber: upload.caseNumber,
    channel,
    fileId: upload.id,
    originalName: upload.name,
    receivedAt: upload.createdAt,
    token: { id: upload.tokenId, label: upload.tokenLabel },
    extra: { clientAddress: upload.clientAddress },
  };
  let file: AdmittedFile;
  try {
    file = await admitParts(arrival, parts, deps.intake, known, upload.expectSha256);
  } catch (err) {
    await dropStaging(deps.intake.store, upload.id);
    await deps.partials.remove(upload);
    const r = failure(err, 'file-too-big', 0);
    uploads.inc({ channel, result: r.code });
    log.info({ event: 'upload_failed', code: r.code, err: (err as Error).message }, 'upload not kept');
    await deps.events?.({
      event: 'upload.rejected',
      case: upload.caseNumber,
      name: upload.name,
      channel,
      tokenLabel: upload.tokenLabel,
      reason: r.code,
      message: r.message,
      time: new Date().toISOString(),
    });
    return { status: r.status, body: { error: r.code, message: r.message }, headers: { ...r.headers } };
  }
  await deps.partials.remove(upload);
  if (!file.kept) {
    await dropStaging(deps.intake.store, upload.id);
    uploads.inc({ channel, result: 'not-encrypted' });
    const r = refusal('not-encrypted', { advice: file.advice });
    await deps.events?.({
      event: 'upload.rejected',
      case: upload.caseNumber,
      name: upload.name,
      channel,
      tokenLabel: upload.tokenLabel,
      reason: file.reason,
      message: r.message,
      time: new Date().toISOString(),
    });
    return { status: r.status, body: { error: r.code, message: r.message, reason: file.reason }, headers: {} };
  }
  await Promise.all([deps.tokens.recordUse(upload.caseNumber, upload.tokenId, file.size), deps.usage.add(upload.caseNumber, file.size)]);
  uploads.inc({ channel, result: 'stored' });
  uploadBytes.inc({ channel }, file.size);
  log.info({ event: 'upload_stored', size: file.size, parts: parts.length, verdict: file.verdict, reason: file.reason }, 'upload stored');
  const receipt = receiptOf(file, new Date().toISOString());
  const signature = deps.sign ? await deps.sign(receipt) : undefined;
  await deps.events?.({ event: 'upload.completed', case: upload.caseNumber, receipt: { ...receipt, ...(signature ? { signature } : {}) }, time: receipt.time });
  return { status: 201, body: { ...receipt, ...(signature ? { signature } : {}) }, headers: { 'repr-digest': reprDigest(file.sha256) } };
}

/**
 * Counts the body as it streams; past the allowance (a chunked body, or more than announced) it
 * stops. A client that vanishes mid-body ends a resumable segment where its bytes ended. Each
 * piece is released once the store has taken it (the store copies what it keeps, and nothing else
 * reads the request): uploads do not pile up body pieces waiting for the GC.
 */
export async function* metered(req: IncomingMessage, allowance: number, cut: { happened: boolean; resumable: boolean }): AsyncGenerator<Buffer> {
  let seen = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > allowance) throw new CasedropError(ErrorCode.UploadTooBig, `more than ${allowance} bytes`);
      yield chunk;
      release(chunk);
    }
  } catch (err) {
    if (!cut.resumable || !isClientGone(err)) throw err;
    cut.happened = true;
  }
}

function isClientGone(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'ECONNRESET' || e?.message === 'aborted';
}

function fail(res: ServerResponse, err: unknown, capCode: Admission['allowanceCode'], cap: number, channel: Channel, log: Logger): void {
  const r = failure(err, capCode, cap);
  uploads.inc({ channel, result: r.code });
  log.info({ event: 'upload_failed', code: r.code, err: (err as Error).message }, 'upload not kept');
  send(res, r.status, { error: r.code, message: r.message }, { ...r.headers, connection: 'close' });
}

function failure(err: unknown, capCode: Admission['allowanceCode'], cap: number): UploadRefusal {
  if (isCasedropError(err, ErrorCode.UploadTooBig)) return refusal(capCode, { limit: cap });
  if (isCasedropError(err, ErrorCode.DigestMismatch)) return refusal('digest-mismatch', { actual: /is ([0-9a-f]{64})/.exec(err.message)?.[1] ?? '' });
  if (isDiskFull(err)) return refusal('disk-full');
  return refusal('internal');
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}
