import type { SenderAuth } from './types.js';

/**
 * Pure decisions about a sender's authentication. A reply goes to the envelope sender only when that
 * address is authenticated: SPF passed for its domain, a passing DKIM signature is aligned with its
 * domain, or DMARC passed for a From domain aligned with it (relaxed alignment, approximated as
 * "equal, or one a subdomain of the other": it never aligns two unrelated domains, so it fails closed).
 * A trusted network (a relay that checked the mail already) counts too.
 */
export interface Trust {
  trusted: boolean;
  /** how, for logs, notices and `case files`: `DMARC pass (example.com)`, `SPF fail, no DKIM` */
  how: string;
}

const MAX_DOMAIN = 255;

export function domainOf(address: string): string {
  const a = address
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .slice(-(MAX_DOMAIN + 65));
  const at = a.lastIndexOf('@');
  return at < 0
    ? ''
    : a
        .slice(at + 1)
        .toLowerCase()
        .replace(/\.$/, '');
}

export function aligned(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

export function senderTrust(auth: SenderAuth, mailFrom: string): Trust {
  const envelope = domainOf(mailFrom);
  if (auth.dmarc.result === 'pass' && aligned(auth.headerFromDomain, envelope)) return { trusted: true, how: `DMARC pass (${auth.dmarc.domain ?? envelope})` };
  if (auth.spf.result === 'pass' && aligned(auth.spf.domain, envelope)) return { trusted: true, how: `SPF pass (${auth.spf.domain})` };
  const dkim = auth.dkim.find((s) => s.result === 'pass' && aligned(s.domain, envelope));
  if (dkim) return { trusted: true, how: `DKIM pass (${dkim.domain})` };
  if (auth.trustedNetwork) return { trusted: true, how: `trusted network (${auth.clientAddress}); ${describeAuth(auth)}` };
  return { trusted: false, how: describeAuth(auth) };
}

/** The checks in words, the strongest first: `DMARC pass (example.com)` or `SPF fail, no DKIM`. */
export function describeAuth(auth: SenderAuth): string {
  if (auth.dmarc.result === 'pass') return `DMARC pass (${auth.dmarc.domain ?? auth.headerFromDomain ?? '?'})`;
  const spf = `SPF ${auth.spf.result}${auth.spf.result === 'pass' && auth.spf.domain ? ` (${auth.spf.domain})` : ''}`;
  const passing = auth.dkim.find((s) => s.result === 'pass');
  const dkim = auth.dkim.length === 0 ? 'no DKIM' : passing ? `DKIM pass (${passing.domain})` : `DKIM ${auth.dkim[0]!.result} (${auth.dkim[0]!.domain})`;
  const dmarc = auth.dmarc.result === 'none' ? [] : [`DMARC ${auth.dmarc.result}${auth.dmarc.domain ? ` (${auth.dmarc.domain})` : ''}`];
  const arc = auth.arc.result === 'none' ? [] : [`ARC ${auth.arc.result}`];
  return [spf, dkim, ...dmarc, ...arc].join(', ');
}

/** A DNS look-up that timed out or failed for now: the answer may differ later. */
export function hasTemporaryFailure(auth: SenderAuth): boolean {
  return auth.spf.result === 'temperror' || auth.dmarc.result === 'temperror' || auth.dkim.some((s) => s.result === 'temperror');
}

export type DoorAuthVerdict = { kind: 'accept' } | { kind: 'temporary' } | { kind: 'spf' } | { kind: 'multiple' };

/**
 * `CASEDROP_AUTH_POLICY=require` at the door: authenticated senders pass; a DNS failure is
 * temporary (451 4.4.3); SPF failing with no DKIM signature to try is RFC 7372's 5.7.23; anything else
 * unauthenticated (SPF and DKIM, or DMARC, not passing) is 5.7.26, "multiple checks failed".
 */
export function doorAuthVerdict(auth: SenderAuth, mailFrom: string): DoorAuthVerdict {
  if (senderTrust(auth, mailFrom).trusted) return { kind: 'accept' };
  if (hasTemporaryFailure(auth)) return { kind: 'temporary' };
  const spfFailed = auth.spf.result === 'fail' || auth.spf.result === 'softfail';
  // DMARC failing as well is then only SPF's failure seen again, not a second check
  if (spfFailed && auth.dkim.length === 0) return { kind: 'spf' };
  return { kind: 'multiple' };
}

/** Domain-like words in a display name: `support@bank.example`, `bank.example` (cut first: linear). */
function claimedDomains(displayName: string): string[] {
  // split on anything a domain cannot hold, then keep the words with an inner dot (no backtracking)
  const words = displayName
    .slice(0, 200)
    .toLowerCase()
    .split(/[^a-z0-9.-]/)
    .flatMap((w) => w.split(/\.{2,}/));
  const domains = words.map((w) => w.replace(/^[.]|[.]$/g, '')).filter((w) => w.includes('.') && /[a-z]/.test(w.slice(w.lastIndexOf('.') + 1)));
  return [...new Set(domains)];
}

/**
 * A warning when the From display name names a domain the authentication does not vouch for
 * ("PayPal support <x@evil.example>", or any name with a domain on unauthenticated mail).
 */
export function displayNameWarning(displayName: string | undefined, auth: SenderAuth): string | undefined {
  if (!displayName) return undefined;
  const claimed = claimedDomains(displayName);
  if (claimed.length === 0) return undefined;
  const vouched = [
    ...(auth.dmarc.result === 'pass' ? [auth.headerFromDomain, auth.dmarc.domain] : []),
    ...auth.dkim.filter((s) => s.result === 'pass' && s.aligned).map((s) => s.domain),
  ];
  const unsupported = claimed.filter((c) => !vouched.some((v) => aligned(c, v)));
  if (unsupported.length === 0) return undefined;
  return `the From name claims ${unsupported.slice(0, 3).join(', ')}, which the authentication does not support (${describeAuth(auth)})`;
}
