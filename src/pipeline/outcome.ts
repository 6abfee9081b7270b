import type { OutcomeKind, RefusedFile, StoredFile } from '../jobs/types.js';

/** Pure: the outcome kind follows from what was stored and refused. */
export function outcomeKind(stored: readonly StoredFile[], refused: readonly RefusedFile[]): OutcomeKind {
  if (stored.length === 0 && refused.length === 0) return 'no-attachment';
  if (refused.length === 0) return 'stored';
  if (stored.length === 0) return 'refused';
  return 'partial';
}

/** An attachment's object name: the same spool id and part path always give the same name. */
export function attachmentName(spoolId: string, partPath: string): string {
  return `${spoolId}-p${partPath.replace(/\//g, '_')}`;
}

/** Cuts text to at most `maxBytes` of UTF-8 without splitting a character. */
export function boundText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // step back over continuation bytes (10xxxxxx) so the cut falls on a character boundary
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}
