import { createHash } from 'node:crypto';
import { GENESIS, type AuditEntry } from './types.js';

/** Pure: the hash-chain rules, apart from where entries are kept. */

/** JSON with keys sorted at every level, so the hash does not depend on property order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function entryHash(entry: Omit<AuditEntry, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = entry;
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Every problem in a chain: a gap or a repeated number (an entry removed or inserted), an edited
 * entry (its hash no longer matches), a broken link (`prev` is not the previous hash), and an end
 * shorter than the recorded head (the last entries removed).
 */
export function chainProblems(caseNumber: string, entries: readonly AuditEntry[], head: ChainHead | undefined): string[] {
  const problems: string[] = [];
  let prev = GENESIS;
  entries.forEach((e, i) => {
    const expected = i + 1;
    if (e.seq !== expected) problems.push(`entry ${expected}: found entry number ${e.seq} in its place (an entry was removed or inserted)`);
    if (e.case !== caseNumber) problems.push(`entry ${e.seq}: belongs to case ${e.case}`);
    if (entryHash(e) !== e.hash) problems.push(`entry ${e.seq}: its content does not match its hash (edited)`);
    if (e.prev !== prev) problems.push(`entry ${e.seq}: does not link to the entry before it (an entry before it was removed or edited)`);
    prev = e.hash;
  });
  const last = entries.at(-1);
  if (head && (head.seq !== (last?.seq ?? 0) || head.hash !== (last?.hash ?? GENESIS))) {
    problems.push(`the log ends at entry ${last?.seq ?? 0} but its recorded head is entry ${head.seq} (entries at the end were removed or replaced)`);
  }
  return problems;
}
