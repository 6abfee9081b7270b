import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Outcome, StoredFile } from '../jobs/types.js';
import { fromAddress, lines, replyHeaders, replyMessageId, senderAddress, type ComposeConfig, type ComposedMail } from './compose.js';
import { humanSize, plural, rfc5322Date, safeName } from './words.js';

/**
 * The receipt a sender gets when every file was stored: each file with its size and SHA-256, so the
 * customer can check that what arrived is what they sent (`sha256sum logs.zip`).
 */
export function buildReceipt(outcome: Outcome, config: ComposeConfig): ComposedMail {
  const to = senderAddress(outcome);
  const n = outcome.stored.length;
  const node = new MailComposer({
    from: `"Case intake" <${fromAddress(config)}>`,
    to,
    subject: `Case ${outcome.caseNumber}: ${n} ${plural(n, 'file')} received`,
    messageId: replyMessageId(outcome, 'receipt', config.hostname),
    headers: replyHeaders(outcome, 'auto-replied'),
    text: receiptText(outcome),
    newline: 'win',
  }).compile();
  return { node, envelope: { from: false, to: [to] } };
}

export function receiptText(outcome: Outcome): string {
  return lines(
    `Your message of ${rfc5322Date(outcome.receivedAt)}${outcome.subject !== undefined ? ` ("${safeName(outcome.subject)}")` : ''} reached case ${outcome.caseNumber}.`,
    `Every file was verified as an encrypted archive and stored:`,
    '',
    storedLines(outcome.stored),
    '',
    'To check a file against what you sent: sha256sum <file> (macOS: shasum -a 256 <file>).',
    `Reference: ${outcome.spoolId}`,
  );
}

export function storedLines(stored: readonly StoredFile[]): string[] {
  return stored.flatMap((f) => [
    `  - ${safeName(f.originalName)}${f.storedName !== f.originalName ? ` (stored as ${safeName(f.storedName)})` : ''}`,
    `    ${humanSize(f.size)}, ${f.format}${f.cipher ? ` ${f.cipher}` : ''}`,
    `    SHA-256 ${f.sha256}`,
  ]);
}
