import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { CASE, makeOutcome, OWNER, REFUSED_TXT, startHarness, type Harness } from './helpers.js';

/** No relay configured (the laptop default): every mail becomes `<data dir>/outbox/<job id>.eml`. */
let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

describe('outbox mode', () => {
  it('writes the DSN and the engineer notice as .eml files named by job id, with the envelope sender as Return-Path', async () => {
    const outcome = makeOutcome({ kind: 'partial', refused: [REFUSED_TXT] });
    await h.notify(outcome);
    const dir = join(h.config.dataDir, 'outbox');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.eml')).sort();
    expect(names).toEqual([`${outcome.spoolId}-engineer.eml`, `${outcome.spoolId}-sender.eml`]);
    expect(await readdir(join(h.config.dataDir, '.outbox-tmp'))).toEqual([]);
    expect(await readdir(dir)).toHaveLength(2);

    const dsn = await simpleParser(await readFile(join(dir, `${outcome.spoolId}-sender.eml`)), { keepDeliveryStatus: true });
    expect(dsn.headers.get('return-path')).toBeDefined();
    expect((await readFile(join(dir, `${outcome.spoolId}-sender.eml`), 'utf8')).startsWith('Return-Path: <>\r\n')).toBe(true);
    expect(dsn.subject).toBe(`Case ${CASE}: 1 of 2 files refused`);
    expect(dsn.attachments.map((a) => a.contentType)).toEqual(['message/delivery-status', 'text/rfc822-headers']);
    const notice = await simpleParser(await readFile(join(dir, `${outcome.spoolId}-engineer.eml`)));
    expect(notice.to && !Array.isArray(notice.to) ? notice.to.value[0]?.address : undefined).toBe(OWNER);
    expect(h.logLines.filter((l) => l.msg === 'mail written to the outbox (no relay configured)')).toHaveLength(2);
  });

  it('writes a receipt as <spool id>-sender.eml, once, even when the notify job runs again', async () => {
    const outcome = makeOutcome();
    const job = await h.notify(outcome);
    await job.retry('completed');
    await h.settle('notify', outcome.spoolId);
    const names = (await readdir(join(h.config.dataDir, 'outbox'))).filter((n) => n.endsWith('.eml'));
    expect(names.sort()).toEqual([`${outcome.spoolId}-engineer.eml`, `${outcome.spoolId}-sender.eml`]);
    expect(h.logLines.filter((l) => l.msg === 'mail written to the outbox (no relay configured)')).toHaveLength(2);
  });

  it('records the last mail of an outcome by the settled marker alone: two reply objects for two mails, and a replay sends nothing', async () => {
    const outcome = makeOutcome();
    await h.notify(outcome);
    // one mail's own marker, and the outcome's settled marker standing for the other
    const replies = (await h.store.list('replies/')).filter((id) => id.startsWith(`replies/${outcome.spoolId}`));
    expect(replies).toContain(`replies/${outcome.spoolId}`);
    expect(replies, JSON.stringify(replies)).toHaveLength(2);
    for (const kind of ['sender', 'engineer'] as const) {
      const jobId = `${outcome.spoolId}-${kind}`;
      await h.queues.outbound.add(
        kind === 'sender' ? 'receipt' : 'engineer',
        { spoolId: outcome.spoolId, kind: kind === 'sender' ? 'receipt' : 'engineer' },
        { jobId: `${jobId}-again` },
      );
      await h.settle('outbound', `${jobId}-again`);
    }
    expect(h.logLines.filter((l) => l.msg === 'mail written to the outbox (no relay configured)')).toHaveLength(2);
  });
});
