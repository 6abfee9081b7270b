import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { stuffRaw } from '../../../bench/lib/smtp-client.mjs';

/**
 * What every fault test sends: numbered messages to the test case, each with its own Message-ID (the
 * judge finds a message's objects and replies by it) and one attachment, an AES zip.
 */
export const CASE = '612345678';
export const DOMAIN = 'faults.test';
export const INTAKE = `attach@${DOMAIN}`;
export const SENDER = 'customer@example.com';

/**
 * The reply caps lifted: every ledger counts one receipt per 250 and one notice per message, all
 * from one client IP, domain and case, which the production caps would combine into digests.
 */
export const UNCAPPED_REPLIES = {
  CASEDROP_REPLY_RATE_PER_HOUR: '100000000',
  CASEDROP_REPLY_RATE_PER_DOMAIN_PER_HOUR: '100000000',
  CASEDROP_REPLY_RATE_PER_IP_PER_HOUR: '100000000',
  CASEDROP_REPLY_RATE_TOTAL_PER_HOUR: '100000000',
  CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR: '100000000',
} as const;

export interface Attachment {
  filename: string;
  content: Buffer;
}

/** The committed AES-256 zip made by 7-Zip: the attachment unless a test makes its own. */
export const FIXTURE_ZIP: Attachment = {
  filename: 'diagnostics.zip',
  content: readFileSync(join(import.meta.dirname, '../../../fixtures/archives/zip/aes256.zip')),
};

export interface Message {
  n: number;
  messageId: string;
  /** the message as composed (CRLF line ends) */
  raw: Buffer;
  /** what goes after DATA: dot-stuffed */
  wire: Buffer;
}

export interface ComposeOptions {
  attachment?: Attachment;
  /** pad the text part so the message is about this long on the wire (the kill tests' 10 KiB) */
  wireBytes?: number;
}

export const messageIdOf = (tag: string, n: number): string => `<${tag}-${n}@${DOMAIN}>`;

/**
 * One message for the test case. Composed once per attachment and size with a placeholder
 * Message-ID: a thousand-message ledger then costs one MIME build, not a thousand.
 */
export async function composeMessage(tag: string, n: number, o: ComposeOptions = {}): Promise<Message> {
  const attachment = o.attachment ?? FIXTURE_ZIP;
  let byAttachment = templates.get(attachment);
  if (!byAttachment) templates.set(attachment, (byAttachment = new Map()));
  let template = byAttachment.get(o.wireBytes ?? 0);
  if (!template) byAttachment.set(o.wireBytes ?? 0, (template = await composeTemplate(attachment, o.wireBytes)));
  const messageId = messageIdOf(tag, n);
  const raw = Buffer.from(template.replace(PLACEHOLDER, messageId), 'latin1');
  return { n, messageId, raw, wire: stuffRaw(raw) };
}

const PLACEHOLDER = `<message-id-placeholder@${DOMAIN}>`;
const templates = new WeakMap<Attachment, Map<number, string>>();

async function composeTemplate(attachment: Attachment, wireBytes = 0): Promise<string> {
  const base64 = Math.ceil(attachment.content.length / 3) * 4 * (78 / 76);
  const lines = Math.max(0, Math.floor((wireBytes - base64 - 600) / 72));
  const padding = Array.from({ length: lines }, (_, i) => `diagnostic line ${String(i).padStart(4, '0')}`.padEnd(70, '.')).join('\r\n');
  const raw = await new MailComposer({
    from: SENDER,
    to: INTAKE,
    subject: `Case ${CASE}`,
    messageId: PLACEHOLDER,
    text: `Diagnostics attached, password sent separately.\r\n${padding}\r\n`,
    attachments: [{ filename: attachment.filename, content: attachment.content, contentType: 'application/zip' }],
  })
    .compile()
    .build();
  return raw.toString('latin1');
}
