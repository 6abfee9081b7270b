import type MimeNode from 'nodemailer/lib/mime-node/index.js';
import type { Config } from '../config/schema.js';
import type { Outcome } from '../jobs/types.js';
import type { MailKind } from '../jobs/types.js';

/**
 * What the mail builders share. A built mail is a nodemailer MIME tree plus its SMTP envelope; the
 * outbound worker turns it into bytes for the relay or the outbox. Every reply is rebuilt from the
 * stored outcome when its job runs, and comes out the same each time (fixed Message-ID), so a
 * relay or mailbox that sees a resend can tell it is one.
 */
export interface ComposedMail {
  node: MimeNode;
  /** `from: false` is the null sender `MAIL FROM:<>` (RFC 5321 §4.5.5) */
  envelope: { from: string | false; to: string[] };
}

export type ComposeConfig = Pick<Config, 'hostname' | 'intakeAddresses' | 'replyFrom'> &
  Partial<Pick<Config, 'replyMaxListed'>> &
  // where the upload drive is, for the way forward a DSN offers (absent: the DSN does not mention it)
  Partial<Pick<Config, 'uploadPublicUrl' | 'uploadHost' | 'uploadPort' | 'uploadTlsCert' | 'uploadTlsKey'>>;

export function fromAddress(config: Pick<Config, 'intakeAddresses' | 'replyFrom'>): string {
  return config.replyFrom ?? config.intakeAddresses[0] ?? 'postmaster@localhost';
}

/** `<SPOOLID.dsn@host>`: one fixed id per outcome and kind. */
export function replyMessageId(outcome: Pick<Outcome, 'spoolId'>, kind: MailKind, hostname: string): string {
  return `<${outcome.spoolId}.${kind}@${hostname}>`;
}

/** The original Message-ID in angle brackets, or nothing when it had none usable. */
// RFC 5322 §2.1.1: a line is at most 998 characters. A Message-ID is one token that cannot be
// folded, so one that would not fit on the In-Reply-To or References line is left out, not cut (a
// cut id would thread under the wrong message).
const MAX_MESSAGE_ID = 998 - 'In-Reply-To: '.length;

export function originalMessageId(outcome: Pick<Outcome, 'messageId'>): string | undefined {
  const id = outcome.messageId?.trim();
  if (!id || id.length > MAX_MESSAGE_ID - 2 || /[\s\r\n]/.test(id)) return undefined;
  return id.startsWith('<') ? id : `<${id}>`;
}

/** The address a sender reply goes to: the envelope sender, which is where RFC 3464/3834 send them. */
export function senderAddress(outcome: Pick<Outcome, 'mailFrom'>): string {
  // case kept: only the domain part is case-insensitive
  return outcome.mailFrom
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .trim();
}

/** Headers every automatic mail carries; In-Reply-To/References thread it under the original. */
export function replyHeaders(outcome: Outcome, autoSubmitted: 'auto-replied' | 'auto-generated'): Record<string, string> {
  const headers: Record<string, string> = {
    'Auto-Submitted': autoSubmitted,
    // Microsoft's equivalent of Auto-Submitted: stops Exchange out-of-office replies to us
    'X-Auto-Response-Suppress': 'All',
    'X-Casedrop-Case': outcome.caseNumber,
    'X-Casedrop-Spool-Id': outcome.spoolId,
  };
  const original = originalMessageId(outcome);
  if (original) {
    headers['In-Reply-To'] = original;
    headers['References'] = original;
  }
  return headers;
}

export const CRLF = '\r\n';

export function lines(...parts: (string | string[] | false | undefined)[]): string {
  return parts.flatMap((p) => (p === false || p === undefined ? [] : Array.isArray(p) ? p : [p])).join(CRLF) + CRLF;
}
