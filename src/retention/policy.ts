import type { Case } from '../cases/types.js';
import type { Hold } from './holds.js';

/** Pure retention decisions: which closed cases are due, and which staging items are stale. */

export interface RetentionSettings {
  months: number;
  action: 'archive' | 'delete';
  stagingDays: number;
}

export type CaseDecision =
  | { case: string; decision: 'due'; action: 'archive' | 'delete'; why: string }
  | { case: string; decision: 'held'; why: string }
  | { case: string; decision: 'not-yet'; why: string };

/** closedAt + months, calendar months in UTC (the day is kept, clamped at the month's end). */
export function keptUntil(closedAt: Date, months: number): Date {
  const d = new Date(closedAt.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

/** Open cases are never due: reopening removes closedAt, so the clock starts again at the next close. */
export function decideCase(c: Case, hold: Hold | undefined, now: Date, s: RetentionSettings): CaseDecision | undefined {
  if (c.state !== 'closed' || !c.closedAt) return undefined;
  const until = keptUntil(new Date(c.closedAt), s.months);
  const closed = `closed ${c.closedAt.slice(0, 10)}, kept ${s.months} months (until ${until.toISOString().slice(0, 10)})`;
  if (now.getTime() < until.getTime()) return { case: c.number, decision: 'not-yet', why: closed };
  if (hold) return { case: c.number, decision: 'held', why: `${closed}, but on legal hold since ${hold.since.slice(0, 10)} by ${hold.by}: ${hold.reason}` };
  return { case: c.number, decision: 'due', action: s.action, why: closed };
}

export function isStaleStaging(createdAt: string, now: Date, days: number): boolean {
  return now.getTime() - Date.parse(createdAt) >= days * 86_400_000;
}

export function ageDays(createdAt: string, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(createdAt)) / 86_400_000);
}
