import { reasonInfo, type ReasonCode } from '../reasons/table.js';
import type { VerifyResult } from './types.js';

/**
 * Verdicts take their accept/reject and advice from the reason table (src/reasons/table.ts), so no
 * detector can disagree with the README's policy table or with the replies.
 */
export interface Finding {
  cipher?: string;
  details?: Record<string, unknown>;
  /** said before the table's advice, e.g. which entries were left unencrypted */
  note?: string;
}

/** A verdict whose accept/reject and advice come from the table, so no detector can disagree with it. */
export function decide(format: string, reason: ReasonCode, finding: Finding = {}): VerifyResult {
  const info = reasonInfo(reason);
  const advice = info.verdict === 'accept' ? '' : [finding.note, info.advice].filter(Boolean).join(' ');
  const result: VerifyResult = { format, verdict: info.verdict, reason, details: finding.details ?? {}, advice };
  if (finding.cipher !== undefined) result.cipher = finding.cipher;
  return result;
}
