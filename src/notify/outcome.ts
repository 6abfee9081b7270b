import { UnrecoverableError } from 'bullmq';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { Outcome } from '../jobs/types.js';
import type { ObjectStore } from '../store/types.js';

/**
 * The stored outcome a job refers to. Missing, corrupt or malformed will never get better, so those
 * fail the job for good (dead-letter list); a store error that may pass is thrown as is and retried.
 */
export async function readOutcome(store: ObjectStore, outcomeId: string): Promise<Outcome> {
  let text: string;
  try {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(outcomeId)) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (isCasedropError(err, ErrorCode.ObjectNotFound) || isCasedropError(err, ErrorCode.ObjectCorrupt) || isCasedropError(err, ErrorCode.ObjectTruncated)) {
      throw new UnrecoverableError(`${outcomeId}: ${err.code}`);
    }
    throw err;
  }
  return parseOutcome(text, outcomeId);
}

function parseOutcome(text: string, outcomeId: string): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UnrecoverableError(`${outcomeId}: not JSON`);
  }
  const o = value as Partial<Outcome> | null;
  if (!o || typeof o.spoolId !== 'string' || typeof o.caseNumber !== 'string' || typeof o.kind !== 'string' || typeof o.mailFrom !== 'string') {
    throw new UnrecoverableError(`${outcomeId}: not an outcome`);
  }
  return { ...o, rcptTo: o.rcptTo ?? [], stored: o.stored ?? [], refused: o.refused ?? [], originalHeaders: o.originalHeaders ?? '', automatic: o.automatic ?? false } as Outcome;
}
