import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Attachment } from 'mailparser';
import libmime from 'libmime';
import { jobsFinished } from '../../src/metrics.js';
import { redisKey } from '../../src/redis-keys.js';
import { CASE, makeOutcome, OWNER, REFUSED_TXT, REFUSED_ZIPCRYPTO, startHarness, type Harness } from './helpers.js';
import { startSink, type Sink, type SunkMail } from './sink.js';

/**
 * The notify stage against a real SMTP sink (smtp-server on port 0 as the relay): what reaches the
 * sender and the engineer, parsed back with mailparser.
 */
let sink: Sink;
let h: Harness;

beforeEach(async () => {
  sink = await startSink();
  h = await startHarness({ CASEDROP_RELAY_URL: sink.url, CASEDROP_HOSTNAME: 'mx.casedrop.test' });
});

afterEach(async () => {
  await h.close();
  await sink.close();
});

const toSender = (m: SunkMail) => m.rcptTo.includes('customer@example.com');
const toEngineer = (m: SunkMail) => m.rcptTo.includes(OWNER);

function part(mail: SunkMail, contentType: string): Attachment {
  const found = mail.parsed.attachments.find((a) => a.contentType === contentType);
  if (!found) throw new Error(`no ${contentType} part in ${mail.parsed.attachments.map((a) => a.contentType).join(', ')}`);
  return found;
}

/** The delivery-status block: per-message fields, then one group per recipient (RFC 3464 §2.1). */
function deliveryStatus(mail: SunkMail): Record<string, string[]>[] {
  const text = part(mail, 'message/delivery-status').content.toString('utf8');
  return text
    .split(/\r?\n\r?\n/)
    .filter((g) => g.trim() !== '')
    .map((g) => libmime.decodeHeaders(g));
}

describe('DSN to the sender', () => {
  it('lists every refused file with its reason and fixing command, the stored ones, and the RFC 3464 fields', async () => {
    const outcome = makeOutcome({ kind: 'partial', refused: [REFUSED_TXT, REFUSED_ZIPCRYPTO] });
    await h.notify(outcome);
    const mails = await sink.waitFor(2);
    const dsn = mails.find(toSender)!;

    // envelope and headers
    expect(dsn.mailFrom).toBe('');
    expect(dsn.rcptTo).toEqual(['customer@example.com']);
    const ct = dsn.parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(ct.value).toBe('multipart/report');
    expect(ct.params['report-type']).toBe('delivery-status');
    expect(dsn.parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(dsn.parsed.inReplyTo).toBe(outcome.messageId);
    expect(dsn.parsed.references).toBe(outcome.messageId);
    expect(dsn.parsed.subject).toBe(`Case ${CASE}: 2 of 3 files refused`);
    expect(dsn.parsed.messageId).toBe(`<${outcome.spoolId}.dsn@mx.casedrop.test>`);
    expect(dsn.parsed.from?.value[0]?.address).toBe('attach@localhost');

    // part 1: words a customer acts on
    const text = dsn.parsed.text ?? '';
    expect(text).toContain('report.txt (3.2 KB (3277 bytes)) is not encrypted.');
    expect(text).toContain(`Fix: ${REFUSED_TXT.advice}`);
    expect(text).toContain('old.zip (2.0 KB (2048 bytes)) uses the old ZipCrypto encryption');
    expect(text).toContain(`Fix: ${REFUSED_ZIPCRYPTO.advice}`);
    expect(text).toContain(`Stored in case ${CASE}:`);
    expect(text).toContain(`logs.7z`);
    expect(text).toContain(`SHA-256 ${'a'.repeat(64)}`);
    expect(text).toContain(outcome.spoolId);

    // part 2: message/delivery-status, field by field
    const [perMessage, perRecipient, ...rest] = deliveryStatus(dsn);
    expect(rest).toEqual([]);
    expect(perMessage!['reporting-mta']).toEqual(['dns; mx.casedrop.test']);
    expect(new Date(perMessage!['arrival-date']![0]!).toISOString()).toBe(new Date(Math.floor(Date.parse(outcome.receivedAt) / 1000) * 1000).toISOString());
    expect(perRecipient!['final-recipient']).toEqual(['rfc822; attach@localhost']);
    expect(perRecipient!['action']).toEqual(['failed']);
    expect(perRecipient!['status']).toEqual(['5.7.0']);
    expect(perRecipient!['diagnostic-code']).toEqual(['smtp; 550 5.7.0 2 of 3 attachments refused: unencrypted, weak-zipcrypto']);

    // part 3: the original's header block
    const headers = part(dsn, 'text/rfc822-headers').content.toString('utf8');
    expect(headers).toContain(`Message-ID: ${outcome.messageId}`);
    expect(headers).toContain(`Subject: Case ${CASE} diagnostics`);
    expect(dsn.parsed.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status', 'text/rfc822-headers']);
  });

  it('says 5.6.0 when there was no attachment, and how to attach one', async () => {
    await h.notify(makeOutcome({ kind: 'no-attachment', stored: [] }));
    const dsn = (await sink.waitFor(2)).find(toSender)!;
    expect(dsn.parsed.subject).toBe(`Case ${CASE}: no attachment found, nothing was kept`);
    expect(dsn.parsed.text).toContain('7z a -tzip -mem=AES256 -p logs.zip logs/');
    const [, recipient] = deliveryStatus(dsn);
    expect(recipient!['status']).toEqual(['5.6.0']);
    expect(recipient!['diagnostic-code']).toEqual(['smtp; 550 5.6.0 no attachment found; nothing was kept']);
  });

  it('says 5.7.1 when the case closed, one group per original recipient, and leaves out an absent header part', async () => {
    await h.notify(makeOutcome({ kind: 'case-closed', stored: [], originalHeaders: '', rcptTo: ['attach@localhost', `attach+${CASE}@localhost`] }));
    const dsn = (await sink.waitFor(2)).find(toSender)!;
    expect(dsn.parsed.subject).toBe(`Case ${CASE} is closed: nothing was kept`);
    const [, first, second] = deliveryStatus(dsn);
    expect(first!['status']).toEqual(['5.7.1']);
    expect(second!['final-recipient']).toEqual([`rfc822; attach+${CASE}@localhost`]);
    expect(second!['diagnostic-code']).toEqual([`smtp; 550 5.7.1 case ${CASE} is closed; nothing was kept`]);
    expect(dsn.parsed.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status']);
  });
});

describe('receipt to the sender', () => {
  it('lists each stored file with size and SHA-256, from the null sender', async () => {
    const second = {
      id: 'x',
      originalName: 'core dump.gpg',
      storedName: 'core dump.gpg',
      size: 5_000_000,
      sha256: 'b'.repeat(64),
      format: 'openpgp',
      cipher: 'AES-256',
    };
    const outcome = makeOutcome({ stored: [...makeOutcome().stored, second] });
    await h.notify(outcome);
    const receipt = (await sink.waitFor(2)).find(toSender)!;
    expect(receipt.mailFrom).toBe('');
    expect(receipt.parsed.subject).toBe(`Case ${CASE}: 2 files received`);
    expect(receipt.parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(receipt.parsed.inReplyTo).toBe(outcome.messageId);
    expect(receipt.parsed.text).toContain(`logs.7z`);
    expect(receipt.parsed.text).toContain(`102.4 KB (104857 bytes), 7z AES-256`);
    expect(receipt.parsed.text).toContain(`SHA-256 ${'a'.repeat(64)}`);
    expect(receipt.parsed.text).toContain('core dump.gpg');
    expect(receipt.parsed.text).toContain(`4.8 MB (5000000 bytes), openpgp AES-256`);
    expect(receipt.parsed.text).toContain(`SHA-256 ${'b'.repeat(64)}`);
  });

  it('is not sent when receipts are switched off (the engineer is still told)', async () => {
    await h.close();
    h = await startHarness({ CASEDROP_RELAY_URL: sink.url, CASEDROP_RECEIPTS: 'false' });
    const outcome = makeOutcome();
    await h.notify(outcome);
    expect(await h.queues.outbound.getJob(`${outcome.spoolId}-sender`)).toBeUndefined();
    expect((await sink.waitFor(1)).map((m) => m.rcptTo)).toEqual([[OWNER]]);
  });
});

describe('notice to the engineer', () => {
  it('names sender, files, verdicts and the fetch command, auto-generated', async () => {
    const outcome = makeOutcome({ kind: 'partial', refused: [REFUSED_TXT], noteId: `cases/${CASE}/notes/x` });
    await h.notify(outcome);
    const notice = (await sink.waitFor(2)).find(toEngineer)!;
    expect(notice.parsed.subject).toBe(`Case ${CASE}: 2 files received (1 refused)`);
    expect(notice.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(notice.mailFrom).toBe('');
    const text = notice.parsed.text ?? '';
    expect(text).toContain('Sender:     customer@example.com');
    expect(text).toContain('From:       Customer <customer@example.com>');
    expect(text).toContain('logs.7z  accepted: 7z AES-256');
    expect(text).toContain(`casedrop case get ${CASE} logs.7z -o logs.7z`);
    expect(text).toContain('report.txt  refused (unencrypted): is not encrypted');
    expect(text).toContain(`casedrop case notes ${CASE}`);
    expect(text).toContain('Reply to the sender: delivery status notification (DSN)');
  });

  it('is not sent for a case without owner', async () => {
    const outcome = makeOutcome({ caseNumber: '699999999' });
    await h.notify(outcome);
    expect(await h.queues.outbound.getJob(`${outcome.spoolId}-engineer`)).toBeUndefined();
    expect(h.logLines.some((l) => l.msg === 'case has no owner: no engineer notice')).toBe(true);
  });
});

describe('exactly once', () => {
  it('a retried notify job sends nothing twice and counts the sender once', async () => {
    await h.close();
    h = await startHarness({ CASEDROP_RELAY_URL: sink.url, CASEDROP_REPLY_RATE_PER_HOUR: '1' });
    const outcome = makeOutcome({ kind: 'refused', stored: [], refused: [REFUSED_TXT] });
    let runs = 0;
    h.workers.notify.on('completed', (j) => {
      if (j.id === outcome.spoolId) runs++;
    });
    const job = await h.notify(outcome);
    await sink.waitFor(2);
    await job.retry('completed');
    expect(await (await h.settle('notify', outcome.spoolId)).getState()).toBe('completed');
    expect(runs).toBe(2);
    const counts = await h.queues.outbound.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    // one outbound job carries both mails (the DSN and the engineer notice)
    expect(counts).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 1, failed: 0 });
    expect(sink.mails).toHaveLength(2);
    expect(await h.redis.get(redisKey.capCount(h.config.redisPrefix, 'sender', 'customer@example.com'))).toBe('1');
    // cap 1 per hour: had the retry counted again, its reply would have joined a digest
    expect(h.logLines.filter((l) => l.event === 'reply_digested')).toEqual([]);
  });
});

describe('connections to the relay', () => {
  it('are reused: mail after mail goes over the connection the previous one used', async () => {
    for (let i = 1; i <= 3; i++) {
      await h.notify(makeOutcome({ kind: 'partial', refused: [REFUSED_TXT], mailFrom: `customer${i}@example.com` }));
      await sink.waitFor(2 * i);
    }
    expect(sink.mails).toHaveLength(6);
    // without a pool every mail opens its own connection: six
    expect(sink.connections).toBe(1);
  });
});

describe('relay failures', () => {
  it('retries a temporary refusal (451) and delivers once', async () => {
    await h.close();
    await sink.close();
    sink = await startSink((address, attempt) => (address === 'customer@example.com' && attempt === 1 ? { code: 451, text: '4.3.0 try later' } : undefined));
    h = await startHarness({ CASEDROP_RELAY_URL: sink.url });
    const retriedBefore = await outboundJobs('retried');
    const outcome = makeOutcome();
    await h.notify(outcome);
    const job = await h.settle('outbound', `${outcome.spoolId}-sender`);
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(2);
    expect(sink.mails.filter(toSender)).toHaveLength(1);
    await vi.waitFor(async () => expect(await outboundJobs('retried')).toBe(retriedBefore + 1));
  });

  it('fails a permanent refusal (550) at once and keeps it in the failed set', async () => {
    await h.close();
    await sink.close();
    sink = await startSink((address) => (address === 'customer@example.com' ? { code: 550, text: '5.1.1 no such user' } : undefined));
    h = await startHarness({ CASEDROP_RELAY_URL: sink.url });
    const failedBefore = await outboundJobs('failed');
    const outcome = makeOutcome();
    await h.notify(outcome);
    const job = await h.settle('outbound', `${outcome.spoolId}-sender`);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/relay refused the mail: .*550/);
    expect(sink.refusals).toBe(1);
    expect(sink.mails.filter(toEngineer)).toHaveLength(1);
    await vi.waitFor(async () => expect(await outboundJobs('failed')).toBe(failedBefore + 1));
  });
});

/** `casedrop_jobs_total` of the outbound queue for one result. */
async function outboundJobs(result: 'retried' | 'failed'): Promise<number> {
  const { values } = await jobsFinished.get();
  return values.filter((v) => v.labels.queue === 'outbound' && v.labels.result === result).reduce((sum, v) => sum + v.value, 0);
}
