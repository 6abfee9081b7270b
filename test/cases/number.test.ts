import { describe, expect, it } from 'vitest';
import { assertCaseNumber, exampleCaseNumber, isCaseNumber } from '../../src/cases/number.js';

describe('exampleCaseNumber', () => {
  it.each([1, 9, 10, 12, 30, 64])('has exactly %i digits and is itself a valid case number', (digits) => {
    const example = exampleCaseNumber(digits);
    expect(example).toHaveLength(digits);
    expect(isCaseNumber(example, digits)).toBe(true);
  });

  it('is the example the usage error shows, however long case numbers are', () => {
    expect(() => assertCaseNumber('12', 12)).toThrow(/e\.g\. 612345678612$/);
  });
});
