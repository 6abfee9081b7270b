import { CasedropError, ErrorCode } from '../errors.js';

/** A case number is exactly `digits` ASCII digits; anything else is a usage error, never a lookup. */
export function isCaseNumber(value: string, digits: number): boolean {
  return value.length === digits && /^[0-9]+$/.test(value);
}

export function assertCaseNumber(value: string, digits: number): string {
  if (!isCaseNumber(value, digits)) {
    throw new CasedropError(ErrorCode.CaseNumberInvalid, `"${value}" is not a case number: expected ${digits} digits, e.g. ${'6123456789'.slice(0, digits)}`);
  }
  return value;
}
