import { CasedropError, ErrorCode } from '../errors.js';

/**
 * The case number every example shows (refusals, usage errors), as long as configured: case numbers
 * may have any number of digits, so the pattern repeats rather than being cut from a fixed string.
 */
export function exampleCaseNumber(digits: number): string {
  return '612345678'.repeat(Math.ceil(digits / 9)).slice(0, digits);
}

/** A case number is exactly `digits` ASCII digits; anything else is a usage error, never a lookup. */
export function isCaseNumber(value: string, digits: number): boolean {
  return value.length === digits && /^[0-9]+$/.test(value);
}

export function assertCaseNumber(value: string, digits: number): string {
  if (!isCaseNumber(value, digits)) {
    throw new CasedropError(ErrorCode.CaseNumberInvalid, `"${value}" is not a case number: expected ${digits} digits, e.g. ${exampleCaseNumber(digits)}`);
  }
  return value;
}
