import { withoutTag } from '../cases/contacts.js';
import { domainOf, senderTrust } from '../auth/trust.js';
import { isContact } from '../cases/contacts.js';
import type { Config } from '../config/schema.js';
import type { Outcome } from '../jobs/types.js';
import type { Cap } from './caps.js';

/**
 * Pure decisions of the notify stage about who may get mail and how much. A sender reply goes only
 * to an envelope sender casedrop can trust (src/auth/trust.ts), or to a known contact of the case.
 * An outcome without sender checks was recorded by an older version that did not check: it keeps the
 * old behaviour (replies under the caps) rather than silently losing the refusal.
 */
export interface SenderStanding {
  trusted: boolean;
  /** `DMARC pass (example.com)`, `known contact of the case; SPF fail, no DKIM`, `not checked` */
  how: string;
}

export function senderStanding(outcome: Pick<Outcome, 'auth' | 'mailFrom'>, contacts: readonly string[]): SenderStanding {
  if (!outcome.auth) return { trusted: true, how: 'not checked (recorded before sender checks)' };
  const trust = senderTrust(outcome.auth, outcome.mailFrom);
  if (trust.trusted) return trust;
  if (isContact(contacts, outcome.mailFrom)) return { trusted: true, how: `known contact of the case; ${trust.how}` };
  return trust;
}

export type CapConfig = Pick<Config, 'replyRatePerHour' | 'replyRatePerDomainPerHour' | 'replyRatePerIpPerHour' | 'replyRateTotalPerHour'>;

/** The address without its +tag, lower case: plus-addresses share one allowance. */
export function senderKey(mailFrom: string): string {
  const a = mailFrom
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .trim()
    .toLowerCase();
  const at = a.lastIndexOf('@');
  return at <= 0 ? a : withoutTag(a.slice(0, at)) + a.slice(at);
}

/** Every cap a separate reply counts against: the address, its domain, the client IP, the total. */
export function replyCaps(outcome: Pick<Outcome, 'auth' | 'mailFrom'>, config: CapConfig): Cap[] {
  const caps: Cap[] = [
    { name: 'sender', subject: senderKey(outcome.mailFrom), limit: config.replyRatePerHour },
    { name: 'sender-domain', subject: domainOf(outcome.mailFrom) || '(none)', limit: config.replyRatePerDomainPerHour },
  ];
  if (outcome.auth?.clientAddress) caps.push({ name: 'client-ip', subject: outcome.auth.clientAddress, limit: config.replyRatePerIpPerHour });
  caps.push({ name: 'total', subject: 'all', limit: config.replyRateTotalPerHour });
  return caps;
}
