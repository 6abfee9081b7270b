import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

/** One message the sink accepted: the envelope as the relay saw it and the parsed message. */
export interface SunkMail {
  mailFrom: string;
  rcptTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

/** What the sink answers to RCPT TO: nothing (accept) or an SMTP reply code and text. */
export type RcptAnswer = undefined | { code: number; text: string };

export interface Sink {
  url: string;
  mails: SunkMail[];
  /** resolves when the sink holds at least `count` mails */
  waitFor(count: number): Promise<SunkMail[]>;
  /** how many RCPT commands it refused */
  refusals: number;
  /** SMTP connections it was opened (a pooled client opens fewer than it sends mails) */
  connections: number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1, port 0: the relay the notify stage sends to. `onRcpt` lets a test
 * refuse a recipient (permanent or temporary). DSNs are parsed with the delivery-status part kept as
 * an attachment so its fields can be read.
 */
export async function startSink(onRcpt: (address: string, attempt: number) => RcptAnswer = () => undefined): Promise<Sink> {
  const mails: SunkMail[] = [];
  const waiters: { count: number; resolve: (m: SunkMail[]) => void }[] = [];
  const attempts = new Map<string, number>();
  const sink: Sink = { url: '', mails, refusals: 0, connections: 0, waitFor, close };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session: SMTPServerSession, callback: (err?: Error | null) => void) {
      sink.connections++;
      callback();
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const attempt = (attempts.get(address.address) ?? 0) + 1;
      attempts.set(address.address, attempt);
      const answer = onRcpt(address.address, attempt);
      if (!answer) return callback();
      sink.refusals++;
      callback(Object.assign(new Error(answer.text), { responseCode: answer.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw, { keepDeliveryStatus: true }).then((parsed) => {
          const from = session.envelope.mailFrom;
          mails.push({ mailFrom: from ? from.address : '(none)', rcptTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed });
          for (const w of waiters.filter((w) => mails.length >= w.count)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(mails);
          }
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return sink;

  function waitFor(count: number): Promise<SunkMail[]> {
    if (mails.length >= count) return Promise.resolve(mails);
    return new Promise((resolve) => waiters.push({ count, resolve }));
  }
  function close(): Promise<void> {
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
