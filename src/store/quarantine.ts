import { UnrecoverableError } from 'bullmq';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import { objectsQuarantined } from '../metrics.js';
import type { ObjectStore } from './types.js';

/** Damage found by authentication on read: the object will never read correctly again. */
export function isDamaged(err: unknown): err is Error & { code: string } {
  return isCasedropError(err, ErrorCode.ObjectCorrupt) || isCasedropError(err, ErrorCode.ObjectTruncated);
}

/**
 * For a job that read a damaged object: move it to quarantine (never deleted: it may be evidence,
 * and an operator may still recover something from it), count and log it, and return the error
 * that dead-letters the job with the reason, which `casedrop jobs failed` shows. A retried job
 * then finds the object gone and fails for good again, with the same pointer in the log.
 */
export async function quarantineDamaged(store: ObjectStore, id: string, err: Error & { code: string }, log: Logger): Promise<UnrecoverableError> {
  const namespace = id.slice(0, id.lastIndexOf('/'));
  const to = await store.quarantine(id);
  objectsQuarantined.inc({ namespace, code: err.code });
  log.error({ objectId: id, quarantinedAs: to, code: err.code, event: 'object_quarantined' }, 'damaged object quarantined; job dead-lettered');
  return new UnrecoverableError(`${id}: ${err.code} (quarantined as ${to})`);
}
