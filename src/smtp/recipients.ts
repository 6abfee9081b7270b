import { domainToASCII } from 'node:url';
import { verdict, type CaseFinding } from './subject.js';

/**
 * Which RCPT TO addresses the door accepts: the configured intake addresses, and their
 * sub-addresses `local+<case number>@domain`, which name the case.
 *
 * Local parts compare case-insensitively (RFC 5321 lets a host decide; customers type `Attach@`),
 * domains case-insensitively and IDNA-normalised (`bücher.example` = `xn--bcher-kva.example`).
 * Decided: after the `+` comes exactly a case number of the configured length, nothing else —
 * `attach+foo@`, `attach+@`, `attach+6123456789@` are refused (550 5.1.1 with their own text),
 * since a customer who wrote a sub-address meant a case and a silent fallback would file the
 * mail by the Subject instead. Quoted local parts (`"attach"@…`) are not intake addresses.
 */
export type RecipientVerdict = { accepted: true; intake: string; caseNumber?: string } | { accepted: false; reason: 'unknown' | 'badSubaddress' };

export interface RecipientOptions {
  /** Digits of a case number (config `caseDigits`). */
  digits: number;
}

interface Parts {
  local: string;
  domain: string;
}

function parts(address: string): Parts | undefined {
  const bare = address.trim().replace(/^<(.*)>$/, '$1');
  const at = bare.lastIndexOf('@');
  if (at <= 0 || at === bare.length - 1) return undefined;
  const domain = bare.slice(at + 1).toLowerCase();
  return { local: bare.slice(0, at).toLowerCase(), domain: domainToASCII(domain) || domain };
}

function findIntake(local: string, domain: string, intake: readonly string[]): string | undefined {
  return intake.find((candidate) => {
    const p = parts(candidate);
    return p !== undefined && p.local === local && p.domain === domain;
  });
}

export function classifyRecipient(address: string, intake: readonly string[], opts: RecipientOptions = { digits: 9 }): RecipientVerdict {
  const p = parts(address);
  if (!p) return { accepted: false, reason: 'unknown' };
  const exact = findIntake(p.local, p.domain, intake);
  if (exact !== undefined) return { accepted: true, intake: exact };
  const plus = p.local.indexOf('+');
  if (plus <= 0) return { accepted: false, reason: 'unknown' };
  const base = findIntake(p.local.slice(0, plus), p.domain, intake);
  if (base === undefined) return { accepted: false, reason: 'unknown' };
  const detail = p.local.slice(plus + 1);
  if (detail.length !== opts.digits || !/^[0-9]+$/.test(detail)) return { accepted: false, reason: 'badSubaddress' };
  return { accepted: true, intake: base, caseNumber: detail };
}

/**
 * The case named by the accepted recipients of one message: plain intake addresses name none,
 * the same case twice is one case, two different cases are ambiguous (the door refuses, as for
 * two numbers in a Subject). `none` means: look in the Subject.
 */
export function caseFromRecipients(cases: readonly (string | undefined)[]): CaseFinding {
  return verdict(cases.filter((c): c is string => c !== undefined));
}

/** `local+612345678@domain` for an intake address: the sub-address shown in refusals and receipts. */
export function subaddress(intake: string, caseNumber: string): string {
  const at = intake.lastIndexOf('@');
  return `${intake.slice(0, at)}+${caseNumber}${intake.slice(at)}`;
}

/**
 * RFC 5321 4.5.1: `postmaster@<domain>` must be accepted for every domain we take mail for, and
 * bare `postmaster` (no domain) too. Case-insensitive, like every local part here.
 */
export function isPostmaster(address: string, intake: readonly string[]): boolean {
  const bare = address.trim().replace(/^<(.*)>$/, '$1');
  if (bare.toLowerCase() === 'postmaster') return true;
  const p = parts(bare);
  if (!p || p.local !== 'postmaster') return false;
  return intake.some((candidate) => parts(candidate)?.domain === p.domain);
}
