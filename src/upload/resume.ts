import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, isCasedropError, isDiskFull } from '../errors.js';
import { checkUploadName } from '../intake/names.js';
import type { Logger } from '../log.js';
import { uploads, uploadsExpired } from '../metrics.js';
import { logIn, type GateDeps } from './gate.js';
import { parseContentLength } from './headers.js';
import type { PartialUpload } from './partials.js';
import { completeUpload, metered, send, type PutDeps } from './put.js';
import { refusal, type UploadRefusal } from './replies.js';
import { appendSegment, dropStaging, segments, stagedOffset } from './staging.js';

/**
 * Plain-curl resume of a cut-off `PUT /home/<name>`: `HEAD` on the same URL tells the offset the
 * server has (`Upload-Offset`, `Upload-Length`), `PATCH` with `Upload-Offset` sends the rest (the
 * tus semantics, without tus's creation step). Only the token that started an upload finds it.
 */
export interface ResumeDeps {
  gate: GateDeps;
  put: PutDeps;
}

type Found = { ok: true; upload: PartialUpload } | { ok: false; refusal: UploadRefusal };

async function findUpload(req: IncomingMessage, rawName: string, deps: ResumeDeps): Promise<Found> {
  const login = await logIn(req.headers.authorization, req.socket.remoteAddress ?? '', 'https', deps.gate);
  if (!login.ok) return login;
  const named = checkUploadName(rawName);
  if (!named.ok) return { ok: false, refusal: refusal('bad-name', { why: named.why }) };
  const upload = await deps.put.partials.find(login.caseNumber, login.token.id, named.name);
  if (!upload) return { ok: false, refusal: refusal('no-upload') };
  return { ok: true, upload };
}

export async function headUpload(req: IncomingMessage, res: ServerResponse, rawName: string, deps: ResumeDeps): Promise<void> {
  const found = await findUpload(req, rawName, deps);
  if (!found.ok) {
    res.writeHead(found.refusal.status, { 'cache-control': 'no-store', ...found.refusal.headers });
    return void res.end();
  }
  const offset = await stagedOffset(deps.put.intake.store, found.upload.id);
  res.writeHead(200, {
    'upload-offset': String(offset),
    'upload-length': String(found.upload.length),
    'upload-expires': found.upload.expiresAt,
    'cache-control': 'no-store',
  });
  res.end();
}

export async function patchUpload(req: IncomingMessage, res: ServerResponse, rawName: string, expectsContinue: boolean, deps: ResumeDeps): Promise<void> {
  const found = await findUpload(req, rawName, deps);
  if (!found.ok) return refuse(res, found.refusal);
  const { upload } = found;
  const release = await deps.put.partials.lock(upload.id);
  if (!release) return refuse(res, refusal('upload-locked'), { 'retry-after': '5' });
  try {
    const offset = await stagedOffset(deps.put.intake.store, upload.id);
    const claimed = Number(req.headers['upload-offset']);
    if (!/^\d{1,16}$/.test(String(req.headers['upload-offset'] ?? '')) || claimed !== offset) {
      return refuse(res, refusal('offset-mismatch', { offset }), { 'upload-offset': String(offset) });
    }
    const length = parseContentLength(req.headers['content-length']);
    const remaining = upload.length - offset;
    if (length === 'invalid') return refuse(res, refusal('bad-length'));
    if (length !== undefined && length > remaining) return refuse(res, refusal('past-the-end', { remaining }));
    if (expectsContinue) res.writeContinue();
    // a chunked body (curl -T - from a pipe) may carry at most what is missing
    await append(req, res, upload, offset, remaining, deps);
  } finally {
    await release();
  }
}

async function append(req: IncomingMessage, res: ServerResponse, upload: PartialUpload, offset: number, remaining: number, deps: ResumeDeps): Promise<void> {
  const log = deps.put.logger.child({ caseNumber: upload.caseNumber, fileId: upload.id, tokenId: upload.tokenId });
  const cut = { happened: false, resumable: true };
  let segment;
  try {
    segment = await appendSegment(deps.put.intake.store, upload.id, offset, metered(req, remaining, cut), { caseNumber: upload.caseNumber });
  } catch (err) {
    // nothing of this request was kept; the upload stays where it was
    const r = isCasedropError(err, ErrorCode.UploadTooBig)
      ? refusal('past-the-end', { remaining })
      : isDiskFull(err)
        ? refusal('disk-full')
        : refusal('internal');
    log.info({ event: 'upload_failed', code: r.code, err: (err as Error).message }, 'resumed part not kept');
    return refuse(res, r);
  }
  const now = offset + segment.size;
  if (now < upload.length) {
    uploads.inc({ channel: 'https', result: 'partial' });
    log.info({ event: 'upload_partial', offset: now, length: upload.length }, 'upload resumed, not complete yet');
    res.writeHead(204, { 'upload-offset': String(now), 'cache-control': 'no-store' });
    return void res.end();
  }
  await completeUpload(res, upload, await segments(deps.put.intake.store, upload.id), undefined, 'https', deps.put, log);
}

function refuse(res: ServerResponse, r: UploadRefusal, headers: Record<string, string> = {}): void {
  send(res, r.status, { error: r.code, message: r.message }, { ...r.headers, ...headers, connection: 'close' });
}

/** Removes unfinished uploads past their expiry: segments and records, each with a log line and the metric. */
export async function sweepExpiredUploads(put: Pick<PutDeps, 'intake' | 'partials' | 'events'>, logger: Logger, now = new Date()): Promise<number> {
  let removed = 0;
  for (const upload of await put.partials.expired(now, 100)) {
    const offset = await stagedOffset(put.intake.store, upload.id);
    await put.events?.({
      event: 'upload.expired',
      case: upload.caseNumber,
      name: upload.name,
      tokenLabel: upload.tokenLabel,
      offset,
      length: upload.length,
      time: now.toISOString(),
    });
    await dropStaging(put.intake.store, upload.id);
    await put.partials.remove(upload);
    uploadsExpired.inc();
    logger.info(
      { event: 'upload_expired', caseNumber: upload.caseNumber, fileId: upload.id, tokenId: upload.tokenId, expiresAt: upload.expiresAt },
      'unfinished upload expired and removed',
    );
    removed++;
  }
  return removed;
}
