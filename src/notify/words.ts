import type { Outcome, RefusedFile } from '../jobs/types.js';
import { reasonInfo } from '../reasons/table.js';

/** The words and codes every reply shares. Pure. What a reason code means comes from the reason table. */
export function plainReason(reason: string): string {
  return reasonInfo(reason).reply;
}

export interface DsnStatus {
  /** RFC 3463 enhanced status */
  status: string;
  /** the text after `smtp; 550 <status> ` in Diagnostic-Code, ASCII only */
  diagnostic: string;
}

/** Status and diagnostic of the DSN for an outcome the sender must act on. */
export function dsnStatus(outcome: Pick<Outcome, 'kind' | 'caseNumber' | 'stored' | 'refused'>): DsnStatus {
  if (outcome.kind === 'case-closed') return { status: '5.7.1', diagnostic: `case ${outcome.caseNumber} is closed; nothing was kept` };
  if (outcome.kind === 'no-attachment' || outcome.refused.length === 0) return { status: '5.6.0', diagnostic: 'no attachment found; nothing was kept' };
  const total = outcome.stored.length + outcome.refused.length;
  const reasons = [...new Set(outcome.refused.map((r) => asciiToken(r.reason)))].join(', ');
  // one status for the whole message: the content's form (5.6.0) only when every refusal is about it
  const status = outcome.refused.every((r) => reasonInfo(r.reason).status === '5.6.0') ? '5.6.0' : '5.7.0';
  return { status, diagnostic: `${outcome.refused.length} of ${total} ${plural(total, 'attachment')} refused: ${reasons}` };
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/** `3 files received (1 refused)` */
export function fileCount(outcome: Pick<Outcome, 'stored' | 'refused'>): string {
  const total = outcome.stored.length + outcome.refused.length;
  const refused = outcome.refused.length > 0 ? ` (${outcome.refused.length} refused)` : '';
  return `${total} ${plural(total, 'file')} received${refused}`;
}

/**
 * A name from the customer, made safe to put on a line of text: control characters (a newline could
 * forge lines of the reply) become '?', and very long names are cut.
 */
export function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  const shown = clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
  return shown === '' ? '(no name)' : shown;
}

export function refusedLine(r: RefusedFile): string {
  return `${safeName(r.originalName)} (${humanSize(r.size)}) ${plainReason(r.reason)}.`;
}

/** Bytes as people read them, exact count kept: `1.4 MB (1468006 bytes)` */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]} (${bytes} bytes)`;
}

/** RFC 5322 date-time, e.g. `Tue, 14 Jan 2025 10:00:00 +0000` (toUTCString says GMT, an obsolete zone). */
export function rfc5322Date(iso: string): string {
  const d = new Date(iso);
  return (Number.isNaN(d.getTime()) ? new Date() : d).toUTCString().replace(/GMT$/, '+0000');
}

/** Printable ASCII without spaces or semicolons, for fields of the delivery-status part. */
export function asciiToken(s: string): string {
  return s.replace(/[^\x21-\x7e]|;/g, '?');
}
