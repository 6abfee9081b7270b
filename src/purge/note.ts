import type { PendingRemoval } from './types.js';

/** Pure: the case note a purge or a retention delete leaves, so the customer can match their receipt. */
export function removalNote(r: PendingRemoval): string {
  const f = r.file;
  const heading = r.kind === 'purge' ? 'File purged on request.' : 'File deleted by the retention policy.';
  const lines = [
    heading,
    `File: ${f.storedName}${f.originalName && f.originalName !== f.storedName ? ` (sent as ${f.originalName})` : ''}`,
    `Size: ${f.size} bytes`,
    `SHA-256: ${f.sha256}`,
    `Requested by: ${r.requestedBy}`,
    `Executed by: ${r.operator}`,
    `When: ${r.requestedAt}`,
    `Reason: ${r.reason}`,
    'Its key was destroyed: no copy of it (live, archived, or in a backup of the data directory) can be decrypted again.',
  ];
  if (f.format === 1) {
    lines.push(
      'Caution: this file was stored before per-file keys (format 1); copies of the data directory made before it was migrated (casedrop keys rewrap) can still be read with the master key until those backups expire.',
    );
  }
  return lines.join('\n');
}

export const removalNoteName = (fileName: string): string => `removed-${fileName}`;
