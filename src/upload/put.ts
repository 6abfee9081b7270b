import type { IncomingMessage, ServerResponse } from 'node:http';
import { CasedropError, ErrorCode, isCasedropError, isDiskFull } from '../errors.js';
import { newId } from '../ids.js';
import { admitStream, type StreamDeps } from '../intake/admit.js';
import type { AdmittedFile, Channel } from '../intake/types.js';
import type { Logger } from '../log.js';
import { uploadBytes, uploads } from '../metrics.js';
import type { TokenStore } from '../cases/tokens.js';
import type { Admission } from './gate.js';
import { reprDigest } from './headers.js';
import { refusal, type UploadRefusal } from './replies.js';
import type { CaseUsage } from './usage.js';

/**
 * One admitted upload: the body goes straight from the socket into the encrypted store through
 * the shared intake (no body parser, no buffer, no plaintext on disk), metered against the
 * upload's allowance, then the receipt. Any failure removes what was written.
 */
export interface PutDeps {
  intake: StreamDeps;
  tokens: TokenStore;
  usage: CaseUsage;
  logger: Logger;
  /** signs the receipt (src/upload/receipt-signing.ts); unsigned when absent */
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

export async function storeUpload(req: IncomingMessage, res: ServerResponse, a: Admission, channel: Channel, clientAddress: string, deps: PutDeps): Promise<void> {
  const fileId = newId();
  const log = deps.logger.child({ caseNumber: a.caseNumber, fileId, tokenId: a.token.id, clientAddress });
  const arrival = { caseNumber: a.caseNumber, channel, fileId, originalName: a.name, receivedAt: new Date().toISOString(), token: { id: a.token.id, label: a.token.label }, extra: { clientAddress } };
  let file: AdmittedFile;
  try {
    file = await admitStream(arrival, metered(req, a), deps.intake, a.expectSha256);
  } catch (err) {
    const r = failure(err, a);
    uploads.inc({ channel, result: r.code });
    log.info({ event: 'upload_failed', code: r.code, err: (err as Error).message }, 'upload not kept');
    return send(res, r.status, { error: r.code, message: r.message }, { ...r.headers, connection: 'close' });
  }
  if (!file.kept) {
    uploads.inc({ channel, result: 'not-encrypted' });
    const r = refusal('not-encrypted', { advice: file.advice });
    return send(res, r.status, { error: r.code, message: r.message, reason: file.reason }, {});
  }
  await Promise.all([deps.tokens.recordUse(a.caseNumber, a.token.id, file.size), deps.usage.add(a.caseNumber, file.size)]);
  uploads.inc({ channel, result: 'stored' });
  uploadBytes.inc({ channel }, file.size);
  log.info({ event: 'upload_stored', size: file.size, verdict: file.verdict, reason: file.reason }, 'upload stored');
  const receipt = receiptOf(file, new Date().toISOString());
  const signature = deps.sign ? await deps.sign(receipt) : undefined;
  send(res, 201, { ...receipt, ...(signature ? { signature } : {}) }, { 'repr-digest': reprDigest(file.sha256) });
}

/** Counts the body as it streams; past the allowance (a chunked body, or a lying Content-Length) it stops. */
async function* metered(req: IncomingMessage, a: Admission): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > a.allowance) throw new CasedropError(ErrorCode.UploadTooBig, `more than ${a.allowance} bytes`);
    yield chunk;
  }
}

function failure(err: unknown, a: Admission): UploadRefusal {
  if (isCasedropError(err, ErrorCode.UploadTooBig)) return refusal(a.allowanceCode, { limit: a.allowance });
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
