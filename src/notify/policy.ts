import libmime from 'libmime';
import type { Config } from '../config/schema.js';
import { automaticHeaderReason, reasonKind, robotSender, unbracket, type HeaderLookup } from '../mail/automatic.js';
import type { Outcome, SenderReplyKind } from '../jobs/types.js';

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
  const robot = robotSender(address);
  return robot === 'null-sender' ? undefined : robot;
}

/** The door's verdict first; the same rule (src/mail/automatic.ts) again on the stored header block. */
export function automaticReason(outcome: Pick<Outcome, 'automatic' | 'originalHeaders'>): SuppressReason | undefined {
  if (outcome.automatic) return 'automatic';
  const code = automaticHeaderReason(headerLookup(outcome.originalHeaders));
  return code === undefined ? undefined : (reasonKind(code) as SuppressReason);
}

/** The first field of each name, unfolded (libmime), from a raw header block. */
export function headerLookup(headerBlock: string): HeaderLookup {
  if (headerBlock.trim() === '') return { get: () => undefined };
  const headers = libmime.decodeHeaders(headerBlock, { skipPrototypeKeys: true });
  return { get: (name) => (Object.hasOwn(headers, name) ? headers[name]?.[0] : undefined) };
}

/** `<A@B.example>` → `a@b.example`; `<>` → `` */
export function normaliseAddress(address: string): string {
  return unbracket(address).toLowerCase();
}

/** Our own addresses, sub-addresses (`attach+612345678@…`) included: replying to them loops. */
function isOwnAddress(address: string, config: Pick<Config, 'intakeAddresses' | 'replyFrom'>): boolean {
  const own = [...config.intakeAddresses, ...(config.replyFrom ? [config.replyFrom] : [])].map(normaliseAddress);
  const plain = address.replace(/^([^@+]+)\+[^@]*@/, '$1@');
  return own.includes(address) || own.includes(plain);
}
