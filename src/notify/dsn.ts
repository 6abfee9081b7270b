import MimeNode from 'nodemailer/lib/mime-node/index.js';
import type { Outcome } from '../jobs/types.js';
import { rfc5322Date } from '../rfc5322.js';
import { fromAddress, lines, replyHeaders, replyMessageId, senderAddress, type ComposeConfig, type ComposedMail } from './compose.js';
import { capList, restLine, returnedHeaders } from './bounds.js';
import { storedLines } from './receipt.js';
import { uploadBaseUrl } from '../upload/url.js';
import { asciiToken, dsnStatus, listedRefused, plural, refusedCount, refusedLine, safeName } from './words.js';

/**
 * The DSN a sender gets when something was refused, nothing was attached or the case is closed
 * (RFC 3464 / RFC 6522): multipart/report with a text part the customer can act on, the
 * machine-readable message/delivery-status part, and the original's header block. nodemailer builds
 * and encodes the MIME; the delivery-status field block is the only text composed here.
 */
export function buildDsn(outcome: Outcome, config: ComposeConfig): ComposedMail {
  const to = senderAddress(outcome);
  const root = new MimeNode('multipart/report; report-type=delivery-status', { newline: 'win', hostname: config.hostname });
  root.setHeader({
    From: `"Case intake" <${fromAddress(config)}>`,
    To: to,
    Subject: dsnSubject(outcome),
    'Message-ID': replyMessageId(outcome, 'dsn', config.hostname),
    ...replyHeaders(outcome, 'auto-replied'),
  });
  root.createChild('text/plain; charset=utf-8').setContent(dsnText(outcome, config));
  root.createChild('message/delivery-status').setContent(deliveryStatus(outcome, config));
  if (outcome.originalHeaders.trim() !== '') {
    root.createChild('text/rfc822-headers; charset=utf-8').setContent(returnedHeaders(outcome.originalHeaders) + '\r\n');
  }
  return { node: root, envelope: { from: false, to: [to] } };
}

export function dsnSubject(outcome: Outcome): string {
  const n = outcome.caseNumber;
  if (outcome.kind === 'case-closed') return `Case ${n} is closed: nothing was kept`;
  if (outcome.kind === 'no-attachment' || outcome.refused.length === 0) return `Case ${n}: no attachment found, nothing was kept`;
  const total = outcome.stored.length + refusedCount(outcome);
  return `Case ${n}: ${refusedCount(outcome)} of ${total} ${plural(total, 'file')} refused`;
}

/**
 * The machine-readable part (RFC 3464 §2.2–2.3): per-message fields, a blank line, then one group
 * per recipient of the original. ASCII only: message/delivery-status is not encoded.
 */
export function deliveryStatus(outcome: Outcome, config: ComposeConfig): string {
  const { status, diagnostic } = dsnStatus(outcome);
  const recipients = (outcome.rcptTo.length > 0 ? outcome.rcptTo : [config.intakeAddresses[0] ?? fromAddress(config)]).slice(0, 10).map((r) => r.slice(0, 256));
  const perMessage = lines(`Reporting-MTA: dns; ${asciiToken(config.hostname)}`, `Arrival-Date: ${rfc5322Date(outcome.receivedAt)}`);
  const groups = recipients.map((rcpt) =>
    lines(
      `Final-Recipient: rfc822; ${asciiToken(rcpt)}`,
      'Action: failed',
      `Status: ${status}`,
      `Diagnostic-Code: smtp; 550 ${status} ${diagnostic.replace(/[^\x20-\x7e]/g, '?')}`,
    ),
  );
  return [perMessage, ...groups].join('\r\n');
}

/** The human-readable part: what happened, each refused file with the reason and the fixing command, what was kept. */
export function dsnText(outcome: Outcome, config: ComposeConfig): string {
  return lines(
    `This is the case intake at ${config.hostname}, answering your message`,
    originalSummary(outcome),
    '',
    ...explanation(outcome, config),
    `Reference: ${outcome.spoolId}`,
  );
}

function originalSummary(outcome: Outcome): string[] {
  return [
    outcome.subject !== undefined ? `  Subject: ${safeName(outcome.subject)}` : '',
    outcome.messageId !== undefined ? `  Message-ID: ${safeName(outcome.messageId)}` : '',
    `  Received: ${rfc5322Date(outcome.receivedAt)}`,
  ].filter((l) => l !== '');
}

function explanation(outcome: Outcome, config: ComposeConfig): string[] {
  const n = outcome.caseNumber;
  if (outcome.kind === 'case-closed') {
    return [
      `Case ${n} is closed, so nothing from your message was kept.`,
      'Ask your support engineer to reopen the case, or send the files to the case you are working on now.',
      '',
    ];
  }
  if (outcome.kind === 'no-attachment' || outcome.refused.length === 0) {
    return [
      `Your message reached case ${n}, but no file was attached, so nothing was stored.`,
      'Attach the files as one encrypted archive (an attachment, not a link), for example:',
      '    7z a -tzip -mem=AES256 -p logs.zip logs/',
      `and send it again with "Case ${n}" in the Subject.`,
      '',
    ];
  }
  const stored = capList(outcome.stored);
  return [
    ...refusedSection(outcome, config.replyMaxListed),
    ...uploadSection(outcome, config),
    ...(outcome.stored.length > 0 ? [`Stored in case ${n}:`, ...storedLines(stored.shown), ...restLine(stored.rest, 'stored files'), ''] : []),
  ];
}

/** The way forward mail cannot give: the upload drive takes any file of any size. */
function uploadSection(outcome: Outcome, config: ComposeConfig): string[] {
  if (config.uploadHost === undefined || config.uploadPort === undefined) return [];
  const base = uploadBaseUrl({ ...config, uploadHost: config.uploadHost, uploadPort: config.uploadPort });
  return [
    'Or upload the files over HTTPS instead (any size, kept encrypted, a signed receipt back): ask your',
    `support engineer for an upload token for case ${outcome.caseNumber}, then run for each file:`,
    `    curl -T <file> --user ${outcome.caseNumber}:<upload token> ${base}/home/<file>`,
    '',
  ];
}

function refusedSection(outcome: Outcome, maxListed: number | undefined): string[] {
  const count = refusedCount(outcome);
  const total = outcome.stored.length + count;
  const head = `${count} of ${total} ${plural(total, 'file')} in your message ${count === 1 ? 'was' : 'were'} refused and not kept. Fix ${count === 1 ? 'it' : 'each one'} as shown and send ${count === 1 ? 'it' : 'them'} again with "Case ${outcome.caseNumber}" in the Subject.`;
  const { listed, rest } = listedRefused(outcome.refused, maxListed);
  const items = listed.flatMap((r) => [`  - ${refusedLine(r)}`, ...(r.advice ? [`    Fix: ${safeName(r.advice)}`] : [])]);
  return [head, '', 'Refused:', ...items, ...(rest ? [`  ${rest}`] : []), ''];
}
