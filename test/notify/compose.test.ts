import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { outboundJobId, spoolIdOf, webhookJobId } from '../../src/jobs/ids.js';
import { isPermanent, safeFileName } from '../../src/notify/deliver.js';
import { buildDsn, deliveryStatus, dsnSubject } from '../../src/notify/dsn.js';
import { buildEngineerNotice, engineerSubject, shellWord } from '../../src/notify/engineer.js';
import { buildReceipt } from '../../src/notify/receipt.js';
import { isRetryableStatus, signature, webhookPayload } from '../../src/notify/webhook.js';
import { dsnStatus, humanSize, safeName } from '../../src/notify/words.js';
import { CASE, makeOutcome, REFUSED_TXT, REFUSED_ZIPCRYPTO } from './helpers.js';

/** Mail content, codes and signatures, built in memory and parsed back; no sockets. */
const config = { hostname: 'mx.casedrop.test', intakeAddresses: ['attach@localhost'], replyFrom: undefined };

describe('DSN status', () => {
  it.each([
    [{ kind: 'case-closed', stored: [] }, '5.7.1'],
    [{ kind: 'no-attachment', stored: [] }, '5.6.0'],
    [{ kind: 'refused', stored: [], refused: [REFUSED_TXT] }, '5.7.0'],
    [{ kind: 'partial', refused: [REFUSED_ZIPCRYPTO] }, '5.7.0'],
    [{ kind: 'refused', stored: [], refused: [{ ...REFUSED_TXT, reason: 'corrupt' }] }, '5.6.0'],
    [{ kind: 'refused', stored: [], refused: [{ ...REFUSED_TXT, reason: 'tnef' }, REFUSED_TXT] }, '5.7.0'],
    [{ kind: 'refused', stored: [], refused: [{ ...REFUSED_TXT, reason: 'some-future-code' }] }, '5.7.0'],
  ] as const)('%j → %s', (o, status) => {
    expect(dsnStatus(makeOutcome(o as never)).status).toBe(status);
  });

  it('keeps customer text out of the delivery-status part: it is ASCII, one field per line', () => {
    const o = makeOutcome({
      kind: 'refused',
      stored: [],
      refused: [{ ...REFUSED_TXT, reason: 'bad\r\nStatus: 2.0.0 é' as never }],
      rcptTo: ['attach@localhost\r\nAction: delivered'],
    });
    const text = deliveryStatus(o, config);
    expect(text).toMatch(/^[\x20-\x7e\r\n]*$/);
    expect(text.match(/^Status:/gm)).toHaveLength(1);
    expect(text.match(/^Action:/gm)).toHaveLength(1);
  });

  it('names the case in every subject', () => {
    for (const o of [
      makeOutcome({ kind: 'case-closed', stored: [] }),
      makeOutcome({ kind: 'no-attachment', stored: [] }),
      makeOutcome({ kind: 'refused', stored: [], refused: [REFUSED_TXT] }),
    ]) {
      expect(dsnSubject(o)).toContain(`Case ${CASE}`);
      expect(engineerSubject(o)).toContain(`Case ${CASE}`);
    }
    expect(engineerSubject(makeOutcome({ kind: 'partial', refused: [REFUSED_TXT, REFUSED_ZIPCRYPTO] }))).toBe(`Case ${CASE}: 3 files received (2 refused)`);
    expect(engineerSubject(makeOutcome())).toBe(`Case ${CASE}: 1 file received`);
  });
});

describe('built mails', () => {
  it('a DSN parses back as multipart/report with the three parts, and a forged line in a file name stays inside its line', async () => {
    const o = makeOutcome({ kind: 'refused', stored: [], refused: [{ ...REFUSED_TXT, originalName: 'a.txt\r\nStatus: 2.0.0' }] });
    const mail = buildDsn(o, config);
    expect(mail.envelope).toEqual({ from: false, to: ['customer@example.com'] });
    const parsed = await simpleParser(await mail.node.build(), { keepDeliveryStatus: true });
    expect((parsed.headers.get('content-type') as { value: string }).value).toBe('multipart/report');
    expect(parsed.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status', 'text/rfc822-headers']);
    expect(parsed.text).toContain('a.txt??Status: 2.0.0 (3.2 KB (3277 bytes)) is not encrypted.');
  });

  it('a DSN offers the upload drive with a ready curl command for the case (no token in it)', async () => {
    const o = makeOutcome({ kind: 'refused', stored: [], refused: [REFUSED_TXT] });
    const withDrive = { ...config, uploadPublicUrl: 'https://upload.casedrop.test', uploadHost: '0.0.0.0', uploadPort: 8443 };
    const text = (await simpleParser(await buildDsn(o, withDrive).node.build(), { keepDeliveryStatus: true })).text ?? '';
    expect(text).toContain(`curl -T <file> --user ${CASE}:<upload token> https://upload.casedrop.test/home/<file>`);
    expect(text).toMatch(/ask your\s+support engineer for an upload token/);
    expect((await simpleParser(await buildDsn(o, config).node.build(), { keepDeliveryStatus: true })).text).not.toContain('curl -T');
  });

  it('builds the same mail twice from one outcome (a resend is recognisable by its Message-ID)', async () => {
    const o = makeOutcome();
    const a = await simpleParser(await buildReceipt(o, config).node.build());
    const b = await simpleParser(await buildReceipt(o, config).node.build());
    expect(a.messageId).toBe(b.messageId);
    expect(a.messageId).toBe(`<${o.spoolId}.receipt@mx.casedrop.test>`);
    expect(a.text).toBe(b.text);
  });

  it('uses CRLF line ends throughout', async () => {
    const raw = (await buildEngineerNotice(makeOutcome(), 'eng@example.com', 'receipt', config).node.build()).toString('latin1');
    expect(raw).not.toMatch(/[^\r]\n/);
  });

  it('leaves threading headers out when the original had no usable Message-ID', async () => {
    const parsed = await simpleParser(await buildReceipt(makeOutcome({ messageId: undefined }), config).node.build());
    expect(parsed.inReplyTo).toBeUndefined();
    expect(parsed.references).toBeUndefined();
  });
});

describe('small pieces', () => {
  it('job ids are fixed per outcome and valid BullMQ custom ids', () => {
    expect(outboundJobId.sender('01ABC')).toBe('01ABC-sender');
    expect(outboundJobId.engineer('01ABC')).toBe('01ABC-engineer');
    expect(webhookJobId('01ABC', 2)).toBe('01ABC-webhook-2');
    expect(spoolIdOf('outcomes/01ABC')).toBe('01ABC');
    expect(() => spoolIdOf('outcomes/../x')).toThrow();
  });

  it('classifies relay answers: 5xx permanent, 4xx and network errors retried', () => {
    expect(isPermanent({ responseCode: 550 })).toBe(true);
    expect(isPermanent({ responseCode: 554 })).toBe(true);
    expect(isPermanent({ responseCode: 451 })).toBe(false);
    expect(isPermanent(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' }))).toBe(false);
    expect(isPermanent(undefined)).toBe(false);
  });

  it('classifies webhook answers', () => {
    expect([200, 404, 408, 410, 429, 500, 503].map(isRetryableStatus)).toEqual([false, false, true, false, true, true, true]);
  });

  it('signs "<t>.<body>" with HMAC-SHA256, as openssl computes it', () => {
    // printf '%s' '1700000000.{"event":"message.processed"}' | openssl dgst -sha256 -hmac 'whsec-example'
    const body = '{"event":"message.processed"}';
    expect(signature('whsec-example', body, 1700000000)).toBe('t=1700000000,v1=015f35004332272c966266fbb5548af05016c2805d98bffadf8784fd568a81a2');
    expect(signature('whsec-example', `${body} `, 1700000000)).not.toBe(signature('whsec-example', body, 1700000000));
  });

  it('a webhook payload carries no message text', () => {
    const p = webhookPayload(makeOutcome({ kind: 'partial', refused: [REFUSED_TXT] }));
    expect(Object.keys(p).sort()).toEqual(['case', 'event', 'files', 'kind', 'messageId', 'refused', 'spoolId', 'time']);
    expect(p.refused).toBe(1);
  });

  it('formats sizes, dates and names for people', () => {
    expect(humanSize(512)).toBe('512 bytes');
    expect(humanSize(1536)).toBe('1.5 KB (1536 bytes)');
    expect(humanSize(20 * 1024 * 1024)).toBe('20.0 MB (20971520 bytes)');
    expect(safeName('a\u0000b\nc\u2028d')).toBe('a?b?c?d');
    expect(safeName('x'.repeat(300))).toHaveLength(201);
    expect(shellWord('logs.7z')).toBe('logs.7z');
    expect(shellWord("it's (2).zip")).toBe(`'it'\\''s (2).zip'`);
    expect(safeFileName('01ABC-sender')).toBe('01ABC-sender');
    expect(safeFileName('../x:y')).toBe('..-x-y');
  });
});

describe('outgoing header lines (RFC 5322: at most 998 characters)', () => {
  it.each([100, 990, 3000])('with an original Message-ID of %i characters every line of every reply fits', async (length) => {
    const outcome = makeOutcome({
      kind: 'partial',
      refused: [REFUSED_TXT],
      messageId: `<${'r'.repeat(length)}@example.com>`,
      subject: `Case ${CASE} ${'s'.repeat(length)}`,
    });
    for (const mail of [buildDsn(outcome, config), buildReceipt(outcome, config), buildEngineerNotice(outcome, 'eng@example.com', 'receipt', config)]) {
      const raw = (await mail.node.build()).toString('latin1');
      const longest = Math.max(...raw.split('\r\n').map((l) => l.length));
      expect(longest).toBeLessThanOrEqual(998);
      // a Message-ID that fits is kept for threading
      if (length === 100) expect(raw).toMatch(/In-Reply-To:\s+<r{100}@example\.com>/);
    }
  });
});
