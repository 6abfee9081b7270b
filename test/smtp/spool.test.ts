import { uploadBaseUrl } from '../../src/upload/url.js';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession, stuffRaw } from '../../bench/lib/smtp-client.mjs';
import { ErrorCode, isCasedropError } from '../../src/errors.js';
import type { SpoolMeta } from '../../src/jobs/types.js';
import { createLogger } from '../../src/log.js';
import { ready } from '../../src/redis.js';
import { startSmtp } from '../../src/smtp/index.js';
import { item, manifest, message, queuedId, sendWithNodemailer, startDoor, type TestDoor } from './door.js';
import { enospc, FaultyStore } from './faulty-store.js';
import { privateRedis, type PrivateRedis } from './private-redis.js';

/**
 * Durability of the door: a 250 means one fsynced spool object and one job; every other outcome
 * leaves neither (no object, no temp file, no job) — refusals, oversize, a full disk, a Redis
 * outage, a client that hangs up.
 */
const from = 'customer@example.com';
const to = manifest.intake;

async function expectNothingNew(d: TestDoor, before: { spool: string[]; jobs: string[] }): Promise<void> {
  expect(await d.spoolIds()).toEqual(before.spool);
  expect(await d.jobIds()).toEqual(before.jobs);
  expect(d.tempFiles()).toEqual([]);
}

const snapshot = async (d: TestDoor) => ({ spool: await d.spoolIds(), jobs: await d.jobIds() });

describe('accepted messages', () => {
  let d: TestDoor;
  beforeAll(async () => {
    d = await startDoor();
  });
  afterAll(async () => d?.close());

  it('every 250 has exactly one spool object and one job with the same id', async () => {
    const accepted = manifest.items.filter((i) => i.expect === 'queued' && !i.smtputf8);
    const ids: string[] = [];
    for (const i of accepted) {
      const r = await sendWithNodemailer(d.port, message(i.file), { from: i.mailFrom, to: i.rcptTo });
      expect(r.text, i.file).toMatch(/^250 2\.0\.0 queued as [0-9A-Z]{26}$/);
      ids.push(queuedId(r.text)!);
    }
    expect(new Set(ids).size).toBe(accepted.length);
    expect((await d.spoolIds()).sort()).toEqual([...ids].sort());
    expect((await d.jobIds()).sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await d.queue.getJob(id))!.data).toEqual({ spoolId: id });
  });

  it('spools the message unchanged under a Received header, with the metadata the worker reads', async () => {
    const raw = message('split-encoded-subject.eml');
    const r = await sendWithNodemailer(d.port, raw, { from, to });
    const id = queuedId(r.text)!;
    const stored = Buffer.concat(await (await d.store.get(`spool/${id}`)).toArray());
    const received = stored
      .subarray(0, stored.indexOf('\r\n\r\n') + 2)
      .toString()
      .split(/\r\n(?![\t ])/)[0]!;
    expect(received).toMatch(/^Received: from /);
    expect(received).toContain(`id ${id}`);
    expect(received).toContain('for <attach@localhost>;');
    expect(stored.subarray(received.length + 2)).toEqual(raw);
    const meta = (await d.store.head(`spool/${id}`)).meta as unknown as SpoolMeta;
    expect(meta).toMatchObject({
      spoolId: id,
      caseNumber: manifest.cases.open,
      mailFrom: from,
      rcptTo: [to],
      messageId: '<5@messages.casedrop.test>',
      subject: 'Ihre Anfrage Case 612345678 – Logs',
      clientAddress: '127.0.0.1',
      automatic: false,
    });
    expect(meta.sessionId).toMatch(/\w+/);
    expect(Date.parse(meta.receivedAt)).not.toBeNaN();
  });

  it('never logs message content', async () => {
    const marker = `body-marker-${randomBytes(8).toString('hex')}`;
    const raw = Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: Case ${manifest.cases.open}\r\n\r\n${marker}\r\n`);
    expect((await sendWithNodemailer(d.port, raw, { from, to })).code).toBe(250);
    expect(JSON.stringify(d.logs)).not.toContain(marker);
  });
});

describe('nothing is left behind', () => {
  let d: TestDoor;
  let store: FaultyStore;
  beforeAll(async () => {
    d = await startDoor({ wrapStore: (s) => (store = new FaultyStore(s)) });
  });
  afterAll(async () => d?.close());
  afterEach(() => expect(d.tempFiles()).toEqual([]));

  it('a 21 MB message (SIZE not declared) gets 552 5.3.4 after the final dot and leaves no object, no job', async () => {
    const before = await snapshot(d);
    const big = nodemailer.createTransport({ host: '127.0.0.1', port: d.port, secure: false, ignoreTLS: true });
    const err = await big
      .sendMail({
        from,
        to,
        subject: `Case ${manifest.cases.open}`,
        text: 'logs',
        attachments: [{ filename: 'big.bin', content: randomBytes(16 * 1024 * 1024) }],
      })
      .then(
        () => undefined,
        (e: { responseCode?: number; response?: string }) => e,
      );
    big.close();
    expect(err?.responseCode).toBe(552);
    expect(err?.response).toMatch(/^552 5\.3\.4 message too big: the limit is 20971520 bytes/);
    // the bounce the customer reads says where to upload instead
    expect(err?.response).toContain(`curl -T <file> --user <case number>:<upload token from support> ${uploadBaseUrl(d.config)}/home/<file>`);
    await expectNothingNew(d, before);
  }, 60_000);

  it('SIZE= over the limit is refused at MAIL with 552 5.3.4', async () => {
    const s = await openSession({ port: d.port });
    await s.command('EHLO size.test');
    const r = await s.command(`MAIL FROM:<${from}> SIZE=${d.config.maxMessageBytes + 1}`);
    expect(r.lines).toEqual([
      `552 5.3.4 message too big: ${d.config.maxMessageBytes + 1} bytes declared, the limit is ${d.config.maxMessageBytes} bytes; split the files over several messages, or upload them (any size) with: curl -T <file> --user <case number>:<upload token from support> ${uploadBaseUrl(d.config)}/home/<file>`,
    ]);
    expect((await s.command(`MAIL FROM:<${from}> SIZE=${d.config.maxMessageBytes}`)).code).toBe(250);
    await s.quit();
  });

  it('a full disk gets 452 4.3.1 and leaves nothing', async () => {
    const before = await snapshot(d);
    store.failNextPut(enospc);
    const r = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to });
    expect(r.text).toBe('452 4.3.1 insufficient system storage, try again later');
    await expectNothingNew(d, before);
  });

  it('an unexpected storage error gets 451 4.3.0, never a 5xx', async () => {
    const before = await snapshot(d);
    store.failNextPut(() => new Error('EIO: i/o error, write'));
    const r = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to });
    expect(r.text).toBe('451 4.3.0 local error, try again later');
    await expectNothingNew(d, before);
  });

  it('a client that hangs up inside DATA leaves nothing, and the door serves the next one', async () => {
    const before = await snapshot(d);
    const s = await openSession({ port: d.port });
    await s.command('EHLO hangup.test');
    await s.command(`MAIL FROM:<${from}>`);
    await s.command(`RCPT TO:<${to}>`);
    await s.command('DATA');
    const putStarted = store.nextPut();
    await s.write(stuffRaw(message('case-subject.eml')));
    await s.write(Buffer.alloc(256 * 1024, 'x\r\n'));
    await putStarted;
    s.destroy();
    await d.logEvent('smtp_hangup');
    await expectNothingNew(d, before);
    expect((await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to })).code).toBe(250);
  });

  it.each(['no-case.eml', 'unknown-case.eml', 'closed-case.eml', 'ambiguous.eml'])('a refused message (%s) leaves nothing', async (file) => {
    const before = await snapshot(d);
    const r = await sendWithNodemailer(d.port, message(file), { from, to });
    expect(r.code).toBe(550);
    await expectNothingNew(d, before);
  });
});

describe('duplicates', () => {
  let d: TestDoor;
  beforeAll(async () => {
    d = await startDoor({ env: { CASEDROP_DEDUP_WINDOW_SECONDS: '60' } });
  });
  afterAll(async () => d?.close());

  it('the same message again gets 250 with the first id and is not queued twice', async () => {
    const raw = message('sr-hash-reply.eml');
    const first = await sendWithNodemailer(d.port, raw, { from, to });
    const again = await sendWithNodemailer(d.port, raw, { from, to });
    const id = queuedId(first.text)!;
    expect(again.text).toBe(`250 2.0.0 already queued as ${id}`);
    expect(await d.spoolIds()).toEqual([id]);
    expect(await d.jobIds()).toEqual([id]);
  });

  it('the same Message-ID with other content is queued', async () => {
    const raw = Buffer.concat([message('sr-hash-reply.eml'), Buffer.from('one more line\r\n')]);
    const r = await sendWithNodemailer(d.port, raw, { from, to });
    expect(r.text).toMatch(/^250 2\.0\.0 queued as /);
    expect(await d.jobIds()).toHaveLength(2);
  });

  it('a claim whose message never reached the queue does not swallow the retry', async () => {
    // the state a failed add leaves when Redis also refused to release the claim
    const raw = message('eightbit.eml');
    const first = queuedId((await sendWithNodemailer(d.port, raw, { from, to })).text)!;
    await d.queue.remove(first);
    await d.store.delete(`spool/${first}`);
    const retry = await sendWithNodemailer(d.port, raw, { from, to });
    expect(retry.text).toMatch(/^250 2\.0\.0 queued as /);
    expect(queuedId(retry.text)).not.toBe(first);
  });

  it('a ghost job (its add landed after the door had given up and discarded the spool object) does not swallow the retry', async () => {
    // the state an add leaves when it timed out as Redis went away but reached Redis after all:
    // the door answered 451 and removed the spool object, the job stayed
    const raw = Buffer.concat([message('eightbit.eml'), Buffer.from('ghost\r\n')]);
    const first = queuedId((await sendWithNodemailer(d.port, raw, { from, to })).text)!;
    await d.store.delete(`spool/${first}`);
    const retry = await sendWithNodemailer(d.port, raw, { from, to });
    expect(retry.text).toMatch(/^250 2\.0\.0 queued as /);
    expect(queuedId(retry.text)).not.toBe(first);
    expect(await d.spoolIds()).toContain(queuedId(retry.text));
  });
});

describe('duplicates with the window at 0', () => {
  let d: TestDoor;
  beforeAll(async () => {
    d = await startDoor({ env: { CASEDROP_DEDUP_WINDOW_SECONDS: '0' } });
  });
  afterAll(async () => d?.close());

  it('are queued again', async () => {
    const raw = message('sr-hash-reply.eml');
    await sendWithNodemailer(d.port, raw, { from, to });
    await sendWithNodemailer(d.port, raw, { from, to });
    expect(await d.jobIds()).toHaveLength(2);
  });
});

describe('Redis stops in the middle', () => {
  let redis: PrivateRedis;
  let d: TestDoor;
  let store: FaultyStore;
  beforeAll(async () => {
    redis = await privateRedis();
    // dedup off, so the step that meets the outage is the queue add itself
    d = await startDoor({ env: { CASEDROP_REDIS_URL: redis.url, CASEDROP_DEDUP_WINDOW_SECONDS: '0' }, wrapStore: (s) => (store = new FaultyStore(s)) });
  });
  afterAll(async () => {
    await d?.close();
    await redis?.remove();
  });

  it('answers 451 4.3.0 and leaves no spool object; recovers when Redis is back', async () => {
    const ok = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to });
    expect(ok.code).toBe(250);
    const before = await snapshot(d);

    // 1. Redis goes while the message is being spooled: the queue add fails
    const s = await openSession({ port: d.port });
    await s.command('EHLO outage.test');
    await s.command(`MAIL FROM:<${from}>`);
    await s.command(`RCPT TO:<${to}>`);
    await s.command('DATA');
    const putStarted = store.nextPut();
    await s.write(stuffRaw(message('case-subject.eml')));
    await putStarted;
    await redis.stop();
    const r = await s.command('.');
    expect(r.lines).toEqual(['451 4.3.0 queue unavailable, try again later']);
    await s.quit();
    expect(await d.spoolIds()).toEqual(before.spool);
    expect(d.tempFiles()).toEqual([]);
    // marked, so that a late-landing add of this message is dropped by the worker, not dead-lettered
    expect(await d.store.list('abandoned/')).toHaveLength(1);

    // 2. while Redis is down: the case look-up fails at RCPT (sub-address) or after DATA (Subject)
    const rcpt = await sendWithNodemailer(d.port, message('subaddress.eml'), { from, to: item('subaddress.eml').rcptTo });
    expect(rcpt.text).toMatch(/^451 4\.3\.0 /);
    const subject = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to });
    expect(subject.text).toMatch(/^451 4\.3\.0 /);
    expect(await d.spoolIds()).toEqual(before.spool);
    expect(d.tempFiles()).toEqual([]);

    // 3. Redis is back (empty: no persistence): the door serves again without a restart, and the
    // case is still open: the registry's truth is in the store, Redis only indexes it
    await redis.start();
    await ready(d.redis);
    const after = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to });
    expect(after.code).toBe(250);
    expect(await d.jobIds()).toEqual([queuedId(after.text)]);
  }, 60_000);

  it('a door that cannot reach the queue at start does not start (instead of answering 451 until restarted)', async () => {
    await redis.stop();
    try {
      const started = startSmtp({ config: d.config, logger: createLogger('silent'), store: d.store, registry: d.registry, redis: d.redis });
      await expect(started).rejects.toSatisfy((err: unknown) => isCasedropError(err, ErrorCode.QueueUnavailable));
    } finally {
      await redis.start();
      await ready(d.redis);
    }
  }, 30_000);
});
