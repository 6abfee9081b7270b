import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rfc5322Date } from '../src/rfc5322.js';

describe('rfc5322Date', () => {
  it.each<[Date, string]>([
    [new Date(Date.UTC(2024, 0, 2, 10, 4, 5)), 'Tue, 2 Jan 2024 10:04:05 +0000'],
    [new Date(Date.UTC(1999, 11, 31, 23, 59, 59)), 'Fri, 31 Dec 1999 23:59:59 +0000'],
    [new Date(Date.UTC(2024, 1, 29, 0, 0, 0)), 'Thu, 29 Feb 2024 00:00:00 +0000'],
  ])('%s → %s', (date, text) => {
    expect(rfc5322Date(date)).toBe(text);
    expect(Date.parse(text)).toBe(date.getTime());
  });

  it('round-trips any date to the second (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true }), (date) => {
        expect(Date.parse(rfc5322Date(date))).toBe(Math.floor(date.getTime() / 1000) * 1000);
      }),
    );
  });
});

describe('rfc5322Date from a stored ISO time', () => {
  it('reads the ISO string and falls back to now for one that does not parse', () => {
    expect(rfc5322Date('2025-01-14T10:00:00.000Z')).toBe('Tue, 14 Jan 2025 10:00:00 +0000');
    const before = Math.floor(Date.now() / 1000) * 1000;
    expect(Date.parse(rfc5322Date('not a date'))).toBeGreaterThanOrEqual(before);
  });
});
