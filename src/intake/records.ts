import { Readable } from 'node:stream';
import { isCasedropError, ErrorCode } from '../errors.js';
import { caseVerdictsNamespace } from '../jobs/ids.js';
import { sanitizeFilename } from '../pipeline/filenames.js';
import type { ObjectInfo, ObjectStore } from '../store/types.js';
import type { VerifyResult } from '../verify/types.js';
import type { Arrival } from './types.js';

/**
 * The verdict of a file that was stored before it could be judged (an upload). An empty object
 * whose encrypted metadata holds the verdict, named after the file so a retry rewrites it.
 */
export const verdictRecordId = (caseNumber: string, fileId: string): string => `${caseVerdictsNamespace(caseNumber)}/${fileId}`;

export async function writeVerdictRecord(store: ObjectStore, arrival: Arrival, storedName: string, verdict: VerifyResult): Promise<void> {
  const meta = {
    kind: 'verdict',
    fileId: arrival.fileId,
    storedName,
    format: verdict.format,
    ...(verdict.cipher !== undefined ? { cipher: verdict.cipher } : {}),
    verdict: { verdict: verdict.verdict, reason: verdict.reason, details: verdict.details },
  };
  await store.put(caseVerdictsNamespace(arrival.caseNumber), Readable.from([]), meta, { name: arrival.fileId });
}

/**
 * A file's metadata as the case's file list shows it: the header's, with a separate verdict
 * record (stored name, verdict) laid over it. An upload without its record (its process died
 * between storing and judging) shows as `unverified` under its sanitised original name.
 */
export async function fileView(store: ObjectStore, info: ObjectInfo): Promise<Record<string, unknown>> {
  if (info.meta.verdict !== undefined) return info.meta;
  const caseNumber = info.id.split('/')[1] ?? '';
  try {
    const record = await store.head(verdictRecordId(caseNumber, info.id.slice(info.id.lastIndexOf('/') + 1)));
    return { ...info.meta, storedName: record.meta.storedName, format: record.meta.format, cipher: record.meta.cipher, verdict: record.meta.verdict };
  } catch (err) {
    if (!isCasedropError(err, ErrorCode.ObjectNotFound)) throw err;
    return { ...info.meta, storedName: sanitizeFilename(String(info.meta.originalName ?? '')), format: 'unverified' };
  }
}
