import { describe, expect, it } from 'vitest';
import { plainReason, refusedLine } from '../../src/notify/words.js';
import { REASON_CODES, reasonInfo, reasonTable, renderPolicyTable, type ReasonInfo } from '../../src/reasons/table.js';
import { decide } from '../../src/verify/advice.js';

const COLUMNS: (keyof ReasonInfo)[] = ['verdict', 'scope', 'explanation', 'advice', 'reply', 'status'];

describe('the reason table', () => {
  it.each(REASON_CODES)('%s has every column filled', (code) => {
    const info: Partial<ReasonInfo> = reasonTable[code];
    for (const column of COLUMNS) expect(info[column], `${code}.${column}`).toBeTruthy();
    expect(info.explanation!.length, code).toBeGreaterThan(30);
    expect(info.advice!.length, code).toBeGreaterThan(20);
    expect(info.status, code).toMatch(info.verdict === 'accept' ? /^2\.\d\.\d$/ : /^5\.[67]\.\d$/);
  });

  it('holds exactly the listed codes, so the union and the table cannot drift apart', () => {
    expect(Object.keys(reasonTable).sort()).toEqual([...REASON_CODES].sort());
  });

  it('accepts for "encrypted", refuses for the issue\'s codes, and every file refusal names a command', () => {
    expect(reasonTable.encrypted.verdict).toBe('accept');
    for (const code of [
      'unencrypted',
      'weak-zipcrypto',
      'partial-encryption',
      'weak-cipher',
      'no-integrity',
      'corrupt',
      'not-an-archive',
      'zip-strong-encryption',
      'unsupported-format',
    ] as const) {
      expect(reasonTable[code].verdict, code).toBe('reject');
    }
    for (const code of REASON_CODES) {
      const info = reasonTable[code];
      if (info.verdict === 'reject' && info.scope === 'file') expect(info.advice, code).toMatch(/\b(7z|gpg|openssl) /);
    }
  });

  it('gives every refusal its own reply wording, never the fallback that shows the bare code', () => {
    for (const code of REASON_CODES.filter((c) => reasonTable[c].verdict === 'reject')) {
      expect(plainReason(code), code).not.toContain(code);
      expect(refusedLine({ originalName: 'x.bin', size: 10, format: 'unknown', reason: code, advice: '' })).toContain(reasonTable[code].reply);
    }
    expect(plainReason('pgp-unknown-key')).toMatch(/key/);
  });

  it('fails closed on a code it does not know', () => {
    const result = decide('zip', 'no-such-code' as never);
    expect([result.verdict, result.advice.length > 0]).toEqual(['reject', true]);
    expect(reasonInfo('no-such-code')).toMatchObject({ verdict: 'reject', status: '5.7.0', reply: 'was refused (no-such-code)' });
  });

  it('renders one policy table row per reason', () => {
    const table = renderPolicyTable();
    for (const code of REASON_CODES) expect(table).toContain(`| \`${code}\` | ${reasonTable[code].verdict} |`);
    expect(table.split('\n')).toHaveLength(REASON_CODES.length + 2);
  });
});
