import { CasedropError, ErrorCode, isCasedropError, isDiskFull } from '../errors.js';

/**
 * Runs a backend call and gives its failure a stable code: a full disk must reach the SMTP door
 * as STORAGE_FULL (452 4.3.1, "try later"), anything else as STORAGE_FAILED.
 */
export async function storage<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw storageError(what, err);
  }
}

export function storageError(what: string, err: unknown): CasedropError {
  if (isCasedropError(err)) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (isDiskFull(err)) return new CasedropError(ErrorCode.StorageFull, `storage full while trying to ${what} (${errno})`, { cause: err });
  return new CasedropError(ErrorCode.StorageFailed, `storage failed while trying to ${what}${errno ? ` (${errno})` : ''}`, { cause: err });
}
