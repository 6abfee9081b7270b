import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { AdmittedFile } from '../intake/types.js';
import { rfc5322Date } from '../rfc5322.js';
import { restLine } from './bounds.js';
import { fromAddress, lines, type ComposeConfig, type ComposedMail } from './compose.js';
import { shellWord } from './engineer.js';
import type { UploadEntries } from './upload-notice.js';
import { humanSize, plainReason, plural, safeName } from './words.js';

/**
 * The engineer's notice of the uploads to one case in one window, in the words of the mail notice
 * (src/notify/engineer.ts): each file with its size, SHA-256, channel, token label and verdict, and
 * for a kept one the `casedrop case get` command that fetches it. A file with a refusing verdict is
 * kept when its channel does not require encrypted archives (the transport was encrypted) and
 * listed as stored with that verdict; one the channel's policy refused is listed as not kept.
 * Auto-Submitted and the null sender, as every notice, so no out-of-office reply comes back.
 */
export function buildUploadNotice(content: UploadEntries, caseNumber: string, owner: string, id: string, config: ComposeConfig): ComposedMail {
  const stored = content.files.filter((f) => f.kept);
  const refused = content.files.filter((f) => !f.kept || f.verdict !== 'accept');
  const total = content.files.length + content.rest;
  const node = new MailComposer({
    from: `"Case intake" <${fromAddress(config)}>`,
    to: owner,
    subject: `Case ${caseNumber}: ${total} ${plural(total, 'file')} uploaded${refused.length > 0 ? ` (${refused.length} refused)` : ''}`,
    messageId: `<${id}@${config.hostname}>`,
    headers: {
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      'X-Casedrop-Case': caseNumber,
      'X-Casedrop-Upload-Notice': id,
    },
    text: lines(
      `Files were uploaded to case ${caseNumber}${since(content.files)}; this notice lists every upload since the last one.`,
      '',
      stored.length > 0 && [`Stored (${stored.length}):`, ...stored.flatMap((f) => fileLines(f, caseNumber)), ''],
      content.files.length > stored.length && [
        `Refused (${content.files.length - stored.length}), not kept (this upload channel takes only encrypted archives):`,
        ...content.files.filter((f) => !f.kept).flatMap((f) => fileLines(f, caseNumber)),
        '',
      ],
      restLine(content.rest, 'uploads'),
      stored.length > 0 && [
        'Fetch a file:',
        `  casedrop case get ${caseNumber} <stored name> -o <path>`,
        `  (all files: casedrop case files ${caseNumber})`,
        '',
      ],
      `Reference: ${id}`,
    ),
    newline: 'win',
  }).compile();
  return { node, envelope: { from: false, to: [owner] } };
}

function since(files: readonly AdmittedFile[]): string {
  const first = files.map((f) => f.receivedAt).sort()[0];
  return first ? ` from ${rfc5322Date(first)}` : '';
}

function fileLines(f: AdmittedFile, caseNumber: string): string[] {
  const name = f.kept ? f.storedName : f.originalName;
  return [
    `  - ${safeName(name)}  ${verdictText(f)}, ${humanSize(f.size)}`,
    ...(f.kept && f.verdict !== 'accept' ? ['    kept all the same: the upload channel was encrypted'] : []),
    `    via ${f.channel}, token "${safeName(f.tokenLabel ?? '')}"${f.kept && f.storedName !== f.originalName ? `, sent as ${safeName(f.originalName)}` : ''}`,
    `    SHA-256 ${f.sha256}`,
    // pastes as is, as in the mail notice: the name as one shell word, the output file named after it
    ...(f.kept ? [`    casedrop case get ${caseNumber} ${shellWord(f.storedName)} -o ${shellWord(f.storedName)}`] : []),
  ];
}

function verdictText(f: AdmittedFile): string {
  if (f.verdict === 'accept') return `accepted: ${f.format}${f.cipher ? ` ${f.cipher}` : ''}`;
  return `refused (${f.reason}): ${plainReason(f.reason)}`;
}
