import { reasonInfo } from '../verify/advice.js';
import type { RefusedFile } from './types.js';

/**
 * Refusals the intake worker decides for the message as a whole (or for what is beyond a bound),
 * not from one file's bytes. Their advice comes from the one reason table (src/verify/advice.ts).
 */
export type MessageReason = 'unparseable' | 'too-many-parts' | 'too-many-files' | 'too-complex';

const UNPARSEABLE_ADVICE = 'The message could not be read as MIME; send the files again as ordinary attachments.';

export function messageRefusal(reason: MessageReason, extra: { count?: number; size?: number; limit?: number } = {}): RefusedFile {
  const advice = reason === 'unparseable' ? UNPARSEABLE_ADVICE : reasonInfo(reason).advice;
  const name = reason === 'too-many-files' ? `(${extra.count ?? 0} more files beyond the first ${extra.limit ?? 0})` : '(message)';
  return { originalName: name, size: extra.size ?? 0, format: 'message', reason, advice, ...(extra.count !== undefined ? { count: extra.count } : {}) };
}
