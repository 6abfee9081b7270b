import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSession, stuffRaw } from '../../bench/lib/smtp-client.mjs';
import type { SpoolMeta } from '../../src/jobs/types.js';
import { smtpReplies } from '../../src/metrics.js';
import { replies, type ReplyName } from '../../src/smtp/replies.js';
import {
  item,
  manifest,
  message,
  messagesDir,
  queuedId,
  repoRoot,
  sendWithNodemailer,
  sendWithSmtplib,
  sendWithSwaks,
  startDoor,
  type TestDoor,
} from './door.js';

/**
 * The door's protocol and its refusals, driven by real clients: nodemailer's SMTP transport, a raw
 * socket (for exact bytes and pipelining), swaks and Python's smtplib. Expectations for the fixture
 * messages come from fixtures/messages/manifest.json.
 */
const from = 'customer@example.com';
const to = manifest.intake;
const OPEN = manifest.cases.open;
const ENHANCED = /\b[245]\.\d{1,3}\.\d{1,3}\b/g;

function expectReply(text: string, name: ReplyName): void {
  const r = replies[name];
  expect(text, `expected ${name}`).toMatch(new RegExp(`^${r.code} ${r.enhanced.replace(/\./g, '\\.')} `));
}

let d: TestDoor;
beforeAll(async () => {
  d = await startDoor({ env: { CASEDROP_INTAKE_ADDRESSES: `${to},attach@hostile.test` } });
});
afterAll(async () => d?.close());

describe('EHLO and enhanced status codes', () => {
  it('advertises PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and SIZE, and no AUTH or STARTTLS unless configured', async () => {
    const s = await openSession({ port: d.port });
    expect(s.greeting!.lines).toEqual(['220 localhost ESMTP']);
    const ehlo = await s.command('EHLO client.test');
    const keywords = ehlo.lines.slice(1).map((l) => l.slice(4));
    expect(keywords).toEqual(expect.arrayContaining(['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', `SIZE ${d.config.maxMessageBytes}`]));
    expect(keywords.filter((k) => /^(AUTH|STARTTLS)/.test(k))).toEqual([]);
    await s.quit();
  });

  it('every reply after EHLO carries exactly one enhanced code, ours where the door answers', async () => {
    const s = await openSession({ port: d.port });
    await s.command('EHLO client.test');
    const lines: string[] = [];
    for (const cmd of [
      'RCPT TO:<attach@localhost>',
      'NOOP',
      `MAIL FROM:<${from}>`,
      'RCPT TO:<nobody@localhost>',
      'RCPT TO:<attach+abc@localhost>',
      `RCPT TO:<attach+${manifest.cases.absent}@localhost>`,
      `RCPT TO:<attach+${manifest.cases.closed}@localhost>`,
      'RCPT TO:<attach@localhost>',
      'FOO',
      'RSET',
    ]) {
      lines.push(...(await s.command(cmd)).lines);
    }
    await s.quit();
    expect(lines).toEqual([
      '503 5.5.1 Error: need MAIL command',
      '250 2.0.0 OK',
      '250 2.1.0 Accepted',
      '550 5.1.1 <nobody@localhost>: no such mailbox here; send files to attach@localhost',
      '550 5.1.1 <attach+abc@localhost>: after the + comes a case number of 9 digits, e.g. attach+612345678@localhost',
      `550 5.1.1 case ${manifest.cases.absent} does not exist; check the number in the Subject or address`,
      `550 5.7.1 case ${manifest.cases.closed} is closed and takes no more files; ask support to reopen it`,
      '250 2.1.5 Accepted',
      '500 5.5.2 Error: command not recognized',
      '250 2.0.0 Flushed',
    ]);
    for (const line of lines) expect(line.match(ENHANCED), line).toHaveLength(1);
  });
});

describe('the fixture messages get the reply their manifest names', () => {
  const viaNodemailer = manifest.items.filter((i) => !i.smtputf8 && i.file !== 'big-header.eml');
  it.each(viaNodemailer.map((i) => [i.file, i] as const))('%s', async (_file, i) => {
    const before = { spool: await d.spoolIds(), jobs: await d.jobIds() };
    const r = await sendWithNodemailer(d.port, message(i.file), { from: i.mailFrom, to: i.rcptTo });
    expectReply(r.text, i.expect as ReplyName);
    const id = /as ([0-9A-Z]{26})$/.exec(r.text)?.[1];
    if (i.expect === 'queued') {
      expect((await d.jobIds()).sort()).toEqual([...before.jobs, id].sort());
    } else {
      // refused and discarded alike: nothing spooled, nothing queued
      expect(await d.spoolIds()).toEqual(before.spool);
      expect(await d.jobIds()).toEqual(before.jobs);
    }
  });

  it('an automatic message that fails a check is discarded with a log line naming why', async () => {
    const r = await sendWithNodemailer(d.port, message('bulk-closed-case.eml'), { from, to });
    expect(r.text).toMatch(/^250 2\.0\.0 automatic message accepted and discarded as [0-9A-Z]{26}$/);
    const lines = d.logs.filter((l) => l.event === 'smtp_discarded_automatic');
    expect(lines.map((l) => [l.because, l.automatic])).toContainEqual(['caseClosed', 'precedence:bulk']);
  });

  it('counts replies by reason and code', async () => {
    await sendWithNodemailer(d.port, message('no-case.eml'), { from, to });
    const values = (await smtpReplies.get()).values;
    expect(values.find((v) => v.labels.reason === 'noCaseNumber' && v.labels.code === '550')?.value).toBeGreaterThan(0);
    expect(values.find((v) => v.labels.reason === 'queued' && v.labels.code === '250')?.value).toBeGreaterThan(0);
  });
});

describe('clients and transfer modes', () => {
  it('PIPELINING: a whole transaction in one write gets its replies in order', async () => {
    const s = await openSession({ port: d.port });
    await s.command('EHLO pipelining.test');
    const body = stuffRaw(message('case-subject.eml'));
    await s.write(
      Buffer.concat([
        Buffer.from(`MAIL FROM:<${from}>\r\nRCPT TO:<nobody@localhost>\r\nRCPT TO:<${to}>\r\nDATA\r\n`),
        body,
        Buffer.from('.\r\nMAIL FROM:<>\r\nRCPT TO:<attach@localhost>\r\nDATA\r\n'),
        stuffRaw(message('auto-reply-no-case.eml')),
        Buffer.from('.\r\nQUIT\r\n'),
      ]),
    );
    const codes: string[] = [];
    for (let i = 0; i < 9; i++) codes.push((await s.reply()).lines[0]!.slice(0, 9));
    s.destroy();
    expect(codes).toEqual(['250 2.1.0', '550 5.1.1', '250 2.1.5', '354 End d', '250 2.0.0', '250 2.1.0', '250 2.1.5', '354 End d', '250 2.0.0']);
  });

  it('8BITMIME: an 8-bit body sent by smtplib with BODY=8BITMIME is spooled byte for byte', async () => {
    const i = item('eightbit.eml');
    const r = await sendWithSmtplib(d.port, join(messagesDir, i.file), i.mailFrom, i.rcptTo, ['BODY=8BITMIME']);
    expectReply(r.text.replace(/^/, `${r.code} `), 'queued');
    const stored = Buffer.concat(await (await d.store.get(`spool/${queuedId(r.text)}`)).toArray());
    expect(stored.subarray(stored.length - message(i.file).length)).toEqual(message(i.file));
  });

  it('SMTPUTF8: a UTF-8 sender address and raw UTF-8 headers, by smtplib', async () => {
    const i = item('smtputf8.eml');
    const r = await sendWithSmtplib(d.port, join(messagesDir, i.file), i.mailFrom, i.rcptTo, ['SMTPUTF8', 'BODY=8BITMIME']);
    expect(r.code).toBe(250);
    const meta = (await d.store.head(`spool/${queuedId(r.text)}`)).meta as unknown as SpoolMeta;
    expect(meta.mailFrom).toBe('josé.müller@exämple.de');
    expect(meta.subject).toBe(`Ärger mit SR ${OPEN}`);
  });

  it('swaks with --pipeline and a message it built itself', async () => {
    const r = await sendWithSwaks(d.port, ['--pipeline', '--from', from, '--to', to, '--data', `@${join(messagesDir, 'swaks-attach.eml')}`]);
    expect(r.exitCode, r.transcript).toBe(0);
    expect(r.transcript).toMatch(/^<- +250 2\.0\.0 queued as [0-9A-Z]{26}$/m);
  });

  it('swaks to a wrong address is refused at RCPT', async () => {
    const r = await sendWithSwaks(d.port, ['--from', from, '--to', 'support@localhost', '--header', `Subject: Case ${OPEN}`]);
    expect(r.exitCode).not.toBe(0);
    expect(r.transcript).toContain('550 5.1.1 <support@localhost>: no such mailbox here');
  });

  it('two recipients naming different cases: the second is refused at RCPT as ambiguous', async () => {
    const other = `attach+${manifest.cases.closed.replace(/7$/, '9')}@localhost`;
    await d.registry.open(other.slice(7, 16), 'eng@example.com');
    const s = await openSession({ port: d.port });
    await s.command('EHLO two.test');
    await s.command(`MAIL FROM:<${from}>`);
    expect((await s.command(`RCPT TO:<attach+${OPEN}@localhost>`)).code).toBe(250);
    const second = await s.command(`RCPT TO:<${other}>`);
    expect(second.lines[0]).toMatch(/^550 5\.6\.0 several case numbers found \(612345678, 612345679\)/);
    await s.quit();
  });
});

describe('bare line endings', () => {
  const hostile = (name: string) => readFileSync(join(repoRoot, 'fixtures/hostile/messages', name));

  async function sendRaw(port: number, raw: Buffer): Promise<string> {
    const s = await openSession({ port });
    await s.command('EHLO bare.test');
    await s.command(`MAIL FROM:<${from}>`);
    await s.command('RCPT TO:<attach@hostile.test>');
    await s.command('DATA');
    await s.write(stuffRaw(raw));
    const r = await s.command('.');
    await s.quit();
    return r.lines[0]!;
  }

  it.each(['bare-lf.eml', 'bare-cr.eml'])('%s is refused with 550 5.6.0 under the default (reject)', async (file) => {
    const before = await d.spoolIds();
    expect(await sendRaw(d.port, hostile(file))).toBe('550 5.6.0 message contains a bare CR or LF; every line must end with CRLF');
    expect(await d.spoolIds()).toEqual(before);
  });

  it('is rewritten to CRLF before spooling under normalize', async () => {
    const n = await startDoor({ env: { CASEDROP_INTAKE_ADDRESSES: 'attach@hostile.test', CASEDROP_SMTP_BARE_LINE_ENDINGS: 'normalize' } });
    try {
      const reply = await sendRaw(n.port, hostile('bare-lf.eml'));
      expect(reply).toMatch(/^250 2\.0\.0 queued as /);
      const stored = Buffer.concat(await (await n.store.get(`spool/${queuedId(reply)}`)).toArray()).toString('latin1');
      expect(stored).toContain('\r\nbody\r\nmore\r\n');
      expect(stored.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    } finally {
      await n.close();
    }
  });
});

describe('limits', () => {
  it('a header block over CASEDROP_SMTP_MAX_HEADER_BYTES gets 552 5.3.4', async () => {
    const h = await startDoor({ env: { CASEDROP_SMTP_MAX_HEADER_BYTES: '4096' } });
    try {
      const r = await sendWithNodemailer(h.port, message('big-header.eml'), { from, to });
      expect(r.text).toBe('552 5.3.4 message header too big: the header block is limited to 4096 bytes');
      expect(await h.spoolIds()).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('recipients over CASEDROP_SMTP_MAX_RECIPIENTS get 452 4.5.3', async () => {
    const h = await startDoor({ env: { CASEDROP_SMTP_MAX_RECIPIENTS: '1' } });
    try {
      const s = await openSession({ port: h.port });
      await s.command('EHLO rcpt.test');
      await s.command(`MAIL FROM:<${from}>`);
      expect((await s.command(`RCPT TO:<${to}>`)).code).toBe(250);
      expect((await s.command(`RCPT TO:<attach+${OPEN}@localhost>`)).lines).toEqual([
        '452 4.5.3 too many recipients, at most 1 per message; send the rest in another message',
      ]);
      await s.quit();
    } finally {
      await h.close();
    }
  });

  it('connections over the per-IP and the total limit get 421 4.7.0; a closed one frees its slot', async () => {
    const h = await startDoor({ env: { CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP: '2', CASEDROP_SMTP_MAX_CONNECTIONS: '3' } });
    try {
      const a = await openSession({ port: h.port });
      const b = await openSession({ port: h.port });
      const c = await openSession({ port: h.port });
      expect([a, b].map((s) => s.greeting!.code)).toEqual([220, 220]);
      expect(c.greeting!.lines).toEqual(['421 4.7.0 too many connections from your address, try again later']);
      await a.quit();
      await h.logEvent('smtp_close'); // the refused one was never admitted, so it logs no close
      const again = await openSession({ port: h.port });
      expect(again.greeting!.code).toBe(220);
      for (const s of [b, c, again]) await s.quit();
    } finally {
      await h.close();
    }
    const t = await startDoor({ env: { CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP: '5', CASEDROP_SMTP_MAX_CONNECTIONS: '1' } });
    try {
      const a = await openSession({ port: t.port });
      const b = await openSession({ port: t.port });
      // the total limit is the server's state: the text says busy, not "your address"
      expect(b.greeting!.lines).toEqual(['421 4.3.2 server busy: too many connections in total, try again later']);
      for (const s of [a, b]) await s.quit();
    } finally {
      await t.close();
    }
  });

  it('a session older than CASEDROP_SMTP_SESSION_TIMEOUT_MS is closed however busy it keeps (421 4.4.2)', async () => {
    const h = await startDoor({ env: { CASEDROP_SMTP_SESSION_TIMEOUT_MS: '1500', CASEDROP_SMTP_SOCKET_TIMEOUT_MS: '60000' } });
    try {
      const s = await openSession({ port: h.port });
      // a trickling client: a command every 200 ms keeps the idle timeout from ever firing
      let last = await (async () => {
        for (let i = 0; i < 40; i++) {
          await s.command('NOOP');
          const r = await s.reply(5_000);
          if (r.code !== 250) return r;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return undefined;
      })();
      expect(last?.lines[0]).toBe('421 4.4.2 session too long, closing; send the rest in a new connection');
      last = await s.reply(5_000);
      expect(last.closed).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('an idle session is closed after CASEDROP_SMTP_SOCKET_TIMEOUT_MS', async () => {
    const h = await startDoor({ env: { CASEDROP_SMTP_SOCKET_TIMEOUT_MS: '300' } });
    try {
      const s = await openSession({ port: h.port });
      await s.command('EHLO idle.test');
      const r = await s.reply(5_000);
      expect(r.code).toBe(421);
      expect((await s.reply(5_000)).closed).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe('early talkers', () => {
  async function greetingAfter(port: number): Promise<number> {
    const started = performance.now();
    const s = await openSession({ port });
    const ms = s.greeting!.at - started;
    await s.quit();
    return ms;
  }

  it('the pause before the greeting is CASEDROP_SMTP_EARLY_TALKER_DELAY_MS, and a client that talks into it gets 421', async () => {
    const slow = await startDoor({ env: { CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '400' } });
    try {
      expect(await greetingAfter(slow.port)).toBeGreaterThanOrEqual(400);
      const s = await openSession({ port: slow.port, greeting: false });
      await s.write('EHLO too.early\r\n');
      expect((await s.reply()).lines[0]).toMatch(/^421 .*You talk too soon/);
      s.destroy();
    } finally {
      await slow.close();
    }
  });

  it('0 turns the pause off (smtp-server alone always waits 100 ms): the greeting needs no timer at all', async () => {
    // judged without a stopwatch: with timers frozen, only a door that greets at once greets at all
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      for (let i = 0; i < 3; i++) {
        const s = await openSession({ port: d.port });
        expect(s.greeting?.code).toBe(220);
        s.destroy();
      }
    } finally {
      vi.useRealTimers();
    }
  });
});
