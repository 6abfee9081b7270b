import libmime from 'libmime';
import type { Config } from '../config/schema.js';
import type { Outcome } from '../jobs/types.js';
import type { SenderReplyKind } from '../jobs/types.js';

/**
 * Pure decisions of the notify stage: which reply the sender gets, or why none (RFC 3834 loop
 * rules). The rate limit is the one rule that needs Redis; it runs after these, in notify.ts.
 */
export type SuppressReason =
  | 'null-sender'
  | 'invalid-sender'
  | 'own-address'
  | 'mailer-daemon'
  | 'owner-alias'
  | 'request-alias'
  | 'automatic'
  | 'auto-submitted'
  | 'precedence'
  | 'list-id'
  | 'receipts-off'
  | 'rate-limit';

export type SenderDecision = { send: SenderReplyKind } | { suppress: SuppressReason };

/** What the original header block says about automatic mail. */
export interface HeaderFacts {
  autoSubmitted?: string;
  precedence?: string;
  listId: boolean;
}

export type PolicyConfig = Pick<Config, 'intakeAddresses' | 'replyFrom' | 'receipts'>;

export function decideSenderReply(outcome: Outcome, config: PolicyConfig): SenderDecision {
  const loop = loopReason(outcome, config);
  if (loop) return { suppress: loop };
  const kind = replyKind(outcome);
  if (kind === 'receipt' && !config.receipts) return { suppress: 'receipts-off' };
  return { send: kind };
}

/** A DSN whenever the sender has something to fix; a receipt only when everything was kept. */
export function replyKind(outcome: Pick<Outcome, 'kind'>): SenderReplyKind {
  return outcome.kind === 'stored' ? 'receipt' : 'dsn';
}

export function loopReason(outcome: Outcome, config: PolicyConfig): SuppressReason | undefined {
  return senderAddressReason(outcome.mailFrom, config) ?? automaticReason(outcome);
}

/** RFC 3834 §2 and RFC 5321 §4.5.5: addresses that must never get an automatic reply. */
export function senderAddressReason(mailFrom: string, config: Pick<Config, 'intakeAddresses' | 'replyFrom'>): SuppressReason | undefined {
  const address = normaliseAddress(mailFrom);
  if (address === '') return 'null-sender';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1 || /[\s<>,]/.test(address)) return 'invalid-sender';
  if (isOwnAddress(address, config)) return 'own-address';
  const local = address.slice(0, at);
  if (local === 'mailer-daemon') return 'mailer-daemon';
  if (local.startsWith('owner-')) return 'owner-alias';
  if (local.endsWith('-request')) return 'request-alias';
  return undefined;
}

/** The door's verdict first; the header block again, so List-Id mail is caught even if the door missed it. */
export function automaticReason(outcome: Pick<Outcome, 'automatic' | 'originalHeaders'>): SuppressReason | undefined {
  if (outcome.automatic) return 'automatic';
  const facts = headerFacts(outcome.originalHeaders);
  if (facts.autoSubmitted !== undefined && firstToken(facts.autoSubmitted) !== 'no') return 'auto-submitted';
  if (facts.precedence !== undefined && ['bulk', 'junk', 'list'].includes(firstToken(facts.precedence))) return 'precedence';
  if (facts.listId) return 'list-id';
  return undefined;
}

export function headerFacts(headerBlock: string): HeaderFacts {
  if (headerBlock.trim() === '') return { listId: false };
  const headers = libmime.decodeHeaders(headerBlock, { skipPrototypeKeys: true });
  const first = (name: string): string | undefined => (Object.hasOwn(headers, name) ? headers[name]?.[0] : undefined);
  const facts: HeaderFacts = { listId: first('list-id') !== undefined };
  const autoSubmitted = first('auto-submitted');
  const precedence = first('precedence');
  if (autoSubmitted !== undefined) facts.autoSubmitted = autoSubmitted;
  if (precedence !== undefined) facts.precedence = precedence;
  return facts;
}

/** `Auto-Replied; foo=bar` → `auto-replied` */
function firstToken(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/** `<A@B.example>` → `a@b.example`; `<>` → `` */
export function normaliseAddress(address: string): string {
  return address.trim().replace(/^<(.*)>$/, '$1').trim().toLowerCase();
}

/** Our own addresses, sub-addresses (`attach+612345678@…`) included: replying to them loops. */
function isOwnAddress(address: string, config: Pick<Config, 'intakeAddresses' | 'replyFrom'>): boolean {
  const own = [...config.intakeAddresses, ...(config.replyFrom ? [config.replyFrom] : [])].map(normaliseAddress);
  const plain = address.replace(/^([^@+]+)\+[^@]*@/, '$1@');
  return own.includes(address) || own.includes(plain);
}
