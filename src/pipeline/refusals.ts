import type { RefusedFile } from '../jobs/types.js';
import { reasonTable } from '../reasons/table.js';

/**
 * Refusals the intake worker decides for the message as a whole (or for what is beyond a bound),
 * not from one file's bytes. Their advice comes from the one reason table (src/reasons/table.ts).
 */
export type MessageReason = 'unparseable' | 'too-many-parts' | 'too-many-files' | 'too-complex';

export function messageRefusal(reason: MessageReason, extra: { count?: number; size?: number; limit?: number } = {}): RefusedFile {
  const advice = reasonTable[reason].advice;
  const name = reason === 'too-many-files' ? `(${extra.count ?? 0} more files beyond the first ${extra.limit ?? 0})` : '(message)';
  return { originalName: name, size: extra.size ?? 0, format: 'message', reason, advice, ...(extra.count !== undefined ? { count: extra.count } : {}) };
}
