import { CasedropError, ErrorCode, isCasedropError } from '../../errors.js';

/**
 * The one way a format walker says "this structure does not hold": it throws, and `verify()` turns
 * the throw into a `corrupt` verdict whose `details.problem` is the message. Messages say where (an
 * offset, an entry, a packet) so the refusal can be acted on.
 */
export function malformed(problem: string): never {
  throw new CasedropError(ErrorCode.ArchiveMalformed, problem);
}

export function isMalformed(err: unknown): err is CasedropError {
  return isCasedropError(err, ErrorCode.ArchiveMalformed);
}
