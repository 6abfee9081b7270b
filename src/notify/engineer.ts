import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Outcome } from '../jobs/types.js';
import { rfc5322Date } from '../rfc5322.js';
import { fromAddress, lines, replyHeaders, replyMessageId, type ComposeConfig, type ComposedMail } from './compose.js';
import { fileCount, humanSize, listedRefused, plainReason, refusedCount, safeName } from './words.js';
import { capList, restLine } from './bounds.js';
import { senderLines } from './sender-lines.js';

/**
 * The notice to the engineer who owns the case: who sent what, each file's verdict, and the
 * commands that fetch the files. Auto-Submitted: auto-generated, and sent with a null envelope
 * sender too, so an engineer's out-of-office reply can never reach the intake.
 */
export function buildEngineerNotice(outcome: Outcome, owner: string, senderReply: string | undefined, config: ComposeConfig): ComposedMail {
  const node = new MailComposer({
    from: `"Case intake" <${fromAddress(config)}>`,
    to: owner,
    subject: engineerSubject(outcome),
    messageId: replyMessageId(outcome, 'engineer', config.hostname),
    headers: replyHeaders(outcome, 'auto-generated'),
    text: engineerText(outcome, senderReply, config.replyMaxListed),
    newline: 'win',
  }).compile();
  return { node, envelope: { from: false, to: [owner] } };
}

export function engineerSubject(outcome: Outcome): string {
  const n = outcome.caseNumber;
  if (outcome.kind === 'case-closed') return `Case ${n}: message for the closed case refused, nothing kept`;
  if (outcome.kind === 'no-attachment') return `Case ${n}: message received, no files`;
  return `Case ${n}: ${fileCount(outcome)}`;
}

export function engineerText(outcome: Outcome, senderReply: string | undefined, maxListed?: number): string {
  const n = outcome.caseNumber;
  return lines(
    `A message for case ${n} was processed.`,
    '',
    `  Sender:     ${safeName(outcome.mailFrom || '<>')}`,
    outcome.from !== undefined && `  From:       ${safeName(outcome.from)}`,
    senderLines(outcome),
    outcome.subject !== undefined && `  Subject:    ${safeName(outcome.subject)}`,
    outcome.messageId !== undefined && `  Message-ID: ${safeName(outcome.messageId)}`,
    `  Received:   ${rfc5322Date(outcome.receivedAt)}`,
    senderReply !== undefined && `  Reply to the sender: ${senderReply}`,
    '',
    outcome.kind === 'case-closed' && 'The case is closed, so nothing from the message was kept.',
    outcome.stored.length > 0 && [`Stored (${outcome.stored.length}):`, ...storedList(outcome), ''],
    outcome.refused.length > 0 && [`Refused (${refusedCount(outcome)}), not kept:`, ...refusedList(outcome, maxListed), ''],
    outcome.stored.length > 0 && ['Fetch a file:', `  casedrop case get ${n} <stored name> -o <path>`, `  (all files: casedrop case files ${n})`, ''],
    outcome.noteId !== undefined && [`The message text is kept as a note: casedrop case notes ${n}`, ''],
    `Reference: ${outcome.spoolId}`,
  );
}

function storedList(outcome: Outcome): string[] {
  const { shown, rest } = capList(outcome.stored, 25);
  return [
    ...shown.flatMap((f) => [
      `  - ${safeName(f.storedName)}  accepted: ${f.format}${f.cipher ? ` ${f.cipher}` : ''}, ${humanSize(f.size)}`,
      `    SHA-256 ${f.sha256}`,
      // pastes as is: the name quoted as one shell word, and the output file (required) named after it
      `    casedrop case get ${outcome.caseNumber} ${shellWord(f.storedName)} -o ${shellWord(f.storedName)}`,
    ]),
    ...restLine(rest, 'stored files'),
  ];
}

function refusedList(outcome: Outcome, maxListed: number | undefined): string[] {
  const { listed, rest } = listedRefused(outcome.refused, maxListed);
  const lines = listed.map((r) => `  - ${safeName(r.originalName)}  refused (${r.reason}): ${plainReason(r.reason)}, ${humanSize(r.size)}`);
  return rest ? [...lines, `  ${rest}`] : lines;
}

/** A stored name as one shell word, so the command can be pasted as is. */
export function shellWord(name: string): string {
  return /^[A-Za-z0-9._+-]+$/.test(name) ? name : `'${safeName(name).replace(/'/g, `'\\''`)}'`;
}
