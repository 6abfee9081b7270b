import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Outcome } from '../jobs/types.js';
import { capList, MAX_LISTED, restLine } from './bounds.js';
import { fromAddress, lines, senderAddress, type ComposeConfig, type ComposedMail } from './compose.js';
import { senderLines } from './sender-lines.js';
import { rfc5322Date } from '../rfc5322.js';
import { humanSize, plural, refusedLine, safeName } from './words.js';

/**
 * Mail that combines several outcomes: a sender's digest (their replies over a cap, never dropped)
 * and an engineer's combined notice (a burst to one case). Every message is listed — the first
 * MAX_MESSAGES in full, the rest counted — with its stored and refused files, so a refusal always
 * reaches someone, and the mail stays under the reply bound.
 */
export interface BatchEntry {
  outcome: Outcome;
  /** combined notice only: what the sender was told about this message */
  senderReply?: string;
}

export interface BatchContent {
  entries: BatchEntry[];
  /** members beyond MAX_MESSAGES, or whose outcome could not be read */
  rest: number;
}

const headers = (autoSubmitted: string, id: string) => ({
  'Auto-Submitted': autoSubmitted,
  'X-Auto-Response-Suppress': 'All',
  'X-Casedrop-Digest': id,
});

export function buildSenderDigest(content: BatchContent, id: string, config: ComposeConfig): ComposedMail {
  const first = content.entries[0]!.outcome;
  const to = senderAddress(first);
  const refused = content.entries.reduce((n, e) => n + e.outcome.refused.length, 0);
  const total = content.entries.length + content.rest;
  const node = new MailComposer({
    from: `"Case intake" <${fromAddress(config)}>`,
    to,
    subject: `Your files for ${caseList(content)}: ${total} ${plural(total, 'message')}, ${refused} ${plural(refused, 'file')} refused`,
    messageId: `<${id}@${config.hostname}>`,
    headers: headers('auto-replied', id),
    text: lines(
      `You sent more messages than we answer one by one, so this mail answers all of them since our last mail.`,
      '',
      ...content.entries.flatMap((e) => messageBlock(e.outcome, true)),
      ...restLine(content.rest, 'messages'),
      'Send refused files again, fixed as shown, with the case number in the Subject.',
    ),
    newline: 'win',
  }).compile();
  return { node, envelope: { from: false, to: [to] } };
}

export function buildCombinedNotice(content: BatchContent, owner: string, id: string, config: ComposeConfig): ComposedMail {
  const caseNumber = content.entries[0]!.outcome.caseNumber;
  const total = content.entries.length + content.rest;
  const refused = content.entries.reduce((n, e) => n + e.outcome.refused.length, 0);
  const node = new MailComposer({
    from: `"Case intake" <${fromAddress(config)}>`,
    to: owner,
    subject: `Case ${caseNumber}: ${total} ${plural(total, 'message')} (${refused} ${plural(refused, 'file')} refused), one combined notice`,
    messageId: `<${id}@${config.hostname}>`,
    headers: { ...headers('auto-generated', id), 'X-Casedrop-Case': caseNumber },
    text: lines(
      `Case ${caseNumber} received more messages than it gets separate notices for; these are all of them since the last notice.`,
      '',
      ...content.entries.flatMap((e) => [
        ...messageBlock(e.outcome, false),
        `  Sender:     ${safeName(e.outcome.mailFrom || '<>')}`,
        ...(e.outcome.from !== undefined ? [`  From:       ${safeName(e.outcome.from)}`] : []),
        ...senderLines(e.outcome),
        ...(e.senderReply ? [`  Reply to the sender: ${safeName(e.senderReply)}`] : []),
        '',
      ]),
      ...restLine(content.rest, 'messages'),
      `All files: casedrop case files ${caseNumber}`,
    ),
    newline: 'win',
  }).compile();
  return { node, envelope: { from: false, to: [owner] } };
}

function caseList(content: BatchContent): string {
  const cases = [...new Set(content.entries.map((e) => e.outcome.caseNumber))];
  return cases.length === 1 ? `case ${cases[0]}` : `cases ${cases.slice(0, 5).join(', ')}${cases.length > 5 ? ', …' : ''}`;
}

function messageBlock(o: Outcome, advice: boolean): string[] {
  const stored = capList(o.stored, MAX_LISTED);
  const refused = capList(o.refused, MAX_LISTED);
  return [
    `Message of ${rfc5322Date(o.receivedAt)} to case ${o.caseNumber}${o.subject !== undefined ? ` ("${safeName(o.subject)}")` : ''} — reference ${o.spoolId}:`,
    ...(o.kind === 'case-closed' ? ['  The case is closed: nothing was kept.'] : []),
    ...(o.kind === 'no-attachment' ? ['  No file was attached: nothing was kept.'] : []),
    ...stored.shown.map((f) => `  stored:  ${safeName(f.originalName)}, ${humanSize(f.size)}, SHA-256 ${f.sha256}`),
    ...restLine(stored.rest, 'stored files'),
    ...refused.shown.flatMap((r) => [`  REFUSED: ${refusedLine(r)}`, ...(advice && r.advice ? [`    Fix: ${safeName(r.advice)}`] : [])]),
    ...restLine(refused.rest, 'refused files'),
    ...(advice ? [''] : []),
  ];
}
