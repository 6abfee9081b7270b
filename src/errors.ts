/**
 * Typed errors with stable codes. Callers branch on `code`, never on message text,
 * so messages can be improved without breaking anyone.
 */
export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  UsageInvalid: 'USAGE_INVALID',
  KeyMissing: 'KEY_MISSING',
  KeyUnknown: 'KEY_UNKNOWN',
  /** the object's per-object key was destroyed (purge, retention delete): it can never be read again */
  KeyDestroyed: 'KEY_DESTROYED',
  ObjectNotFound: 'OBJECT_NOT_FOUND',
  ObjectCorrupt: 'OBJECT_CORRUPT',
  ObjectTruncated: 'OBJECT_TRUNCATED',
  StorageFull: 'STORAGE_FULL',
  StorageFailed: 'STORAGE_FAILED',
  CaseNumberInvalid: 'CASE_NUMBER_INVALID',
  CaseNotFound: 'CASE_NOT_FOUND',
  CaseExists: 'CASE_EXISTS',
  QueueUnavailable: 'QUEUE_UNAVAILABLE',
  JobNotFound: 'JOB_NOT_FOUND',
  FileNotFound: 'FILE_NOT_FOUND',
  CaseOnHold: 'CASE_ON_HOLD',
  AuditBroken: 'AUDIT_BROKEN',
  /** an attachment's container structure does not hold; verify() turns it into a `corrupt` verdict */
  ArchiveMalformed: 'ARCHIVE_MALFORMED',
  /** an upload's content does not match the digest its client sent; nothing was kept */
  DigestMismatch: 'DIGEST_MISMATCH',
  /** an upload passed a byte cap (file, case or token) while streaming; nothing was kept */
  UploadTooBig: 'UPLOAD_TOO_BIG',
  /** another connection is appending to the same unfinished upload */
  UploadLocked: 'UPLOAD_LOCKED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class CasedropError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CasedropError';
    this.code = code;
  }
}

export function isCasedropError(err: unknown, code?: ErrorCode): err is CasedropError {
  return err instanceof CasedropError && (code === undefined || err.code === code);
}

/** Node's own errno for "no space left", which the SMTP door maps to 452 4.3.1. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || isCasedropError(err, ErrorCode.StorageFull);
}
