import MailComposer from 'nodemailer/lib/mail-composer';
import { sleep } from '../../../bench/lib/procs.mjs';
import { openSession, stuffRaw, type SmtpSession } from '../../../bench/lib/smtp-client.mjs';

/**
 * The client side of a fault test: messages with a unique Message-ID each, sent through the front
 * door by a real SMTP client (bench/lib/smtp-client.mjs), and a ledger of every attempt and the
 * reply it got. The checks behind the door (support/verify.ts) compare the store with this ledger.
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

export interface Message {
  n: number;
  messageId: string;
  /** the message as composed (CRLF line ends) */
  raw: Buffer;
  /** what goes after DATA: dot-stuffed */
  wire: Buffer;
}

/** One message for the test case, with the attachment and a Message-ID made from `tag` and `n`. */
export async function buildMessage(tag: string, n: number, attachment: Attachment): Promise<Message> {
  const messageId = `<${tag}-${n}@${DOMAIN}>`;
  const raw = await new MailComposer({
    from: SENDER,
    to: INTAKE,
    subject: `Case ${CASE}`,
    messageId,
    text: `Diagnostics ${n} attached, password sent separately.`,
    attachments: [{ filename: attachment.filename, content: attachment.content }],
  })
    .compile()
    .build();
  return { n, messageId, raw, wire: stuffRaw(raw) };
}

export interface Attempt {
  n: number;
  messageId: string;
  try: number;
  /** performance.now() when the session was opened / the last reply came */
  startedAt: number;
  repliedAt: number;
  /** 0: no reply (connection refused, closed, timed out) */
  code: number;
  /** the enhanced status code from the reply text, e.g. 4.3.1 */
  enhanced?: string;
  /** where the session ended: greeting, MAIL, RCPT, DATA, DATA-END or connect */
  stage: string;
  text: string;
  /** from `250 2.0.0 queued as <id>` */
  spoolId?: string;
}

/** One session, one transaction; never throws (a failure is an attempt with code 0). */
export async function sendOnce(port: number, m: Message, tryNo = 1, replyTimeoutMs = 30_000): Promise<Attempt> {
  const startedAt = performance.now();
  const base = { n: m.n, messageId: m.messageId, try: tryNo, startedAt };
  let session: SmtpSession;
  try {
    session = await openSession({ port, replyTimeoutMs });
  } catch (err) {
    return { ...base, repliedAt: performance.now(), code: 0, stage: 'connect', text: String((err as Error).message) };
  }
  try {
    const greeting = session.greeting!;
    if (greeting.code !== 220) return attempt(base, greeting.code, 'greeting', greeting.lines, greeting.at);
    const ehlo = await session.command('EHLO client.faults.test');
    if (ehlo.code !== 250) return attempt(base, ehlo.code, 'EHLO', ehlo.lines, ehlo.at);
    const r = await session.sendMessage({ from: SENDER, to: INTAKE, body: m.wire });
    return attempt(base, r.code, r.stage, r.lines, r.at);
  } catch (err) {
    return { ...base, repliedAt: performance.now(), code: 0, stage: 'timeout', text: String((err as Error).message) };
  } finally {
    await session.quit().catch(() => undefined);
  }
}

function attempt(base: Pick<Attempt, 'n' | 'messageId' | 'try' | 'startedAt'>, code: number, stage: string, lines: string[], at: number): Attempt {
  const text = lines.join(' | ');
  const enhanced = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3}) /.exec(lines.at(-1) ?? '')?.[1];
  const spoolId = code === 250 && stage === 'DATA-END' ? /queued as ([0-9A-Z]+)/.exec(text)?.[1] : undefined;
  return { ...base, repliedAt: at, code, stage, text, ...(enhanced ? { enhanced } : {}), ...(spoolId ? { spoolId } : {}) };
}

export interface LoadOptions {
  port: number;
  messages: Message[];
  /** parallel sessions */
  concurrency: number;
  /** like an MTA's queue: a message that got a 4xx (or no reply) is tried again after this pause */
  retryDelayMs: number;
  /** give up on a message after this long (the test then fails on the ledger) */
  deadlineMs: number;
  /** called after every attempt, e.g. to trigger the fault at the right moment */
  onAttempt?: (a: Attempt) => void;
}

/**
 * Sends every message until it gets a 2xx or a 5xx, `concurrency` sessions at a time, a new
 * connection per attempt. Returns every attempt in the order the replies came.
 */
export async function runLoad(o: LoadOptions): Promise<Attempt[]> {
  const ledger: Attempt[] = [];
  const queue = [...o.messages];
  const deadline = performance.now() + o.deadlineMs;
  const sender = async () => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      for (let t = 1; performance.now() < deadline; t++) {
        const a = await sendOnce(o.port, m, t);
        ledger.push(a);
        o.onAttempt?.(a);
        if (a.code >= 200 && a.code < 300) break;
        if (a.code >= 500) break;
        await sleep(o.retryDelayMs);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, sender));
  return ledger;
}

/** messageId → spool id of the 250 it got (a message answered 250 twice would show up in `twice`). */
export function acceptedByMessage(ledger: readonly Attempt[]): { accepted: Map<string, string>; twice: string[] } {
  const accepted = new Map<string, string>();
  const twice: string[] = [];
  for (const a of ledger) {
    if (a.code !== 250 || !a.spoolId) continue;
    if (accepted.has(a.messageId)) twice.push(a.messageId);
    accepted.set(a.messageId, a.spoolId);
  }
  return { accepted, twice };
}

/** "451 4.3.0 ×12, 250 2.0.0 ×300": a compact tally for failure messages and the report. */
export function tally(ledger: readonly Attempt[]): string {
  const counts = new Map<string, number>();
  for (const a of ledger) {
    const k = `${a.code}${a.enhanced ? ` ${a.enhanced}` : ''}${a.code === 0 ? ` (${a.stage})` : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, v]) => `${k} ×${v}`).join(', ');
}
