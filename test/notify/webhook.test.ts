import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CASE, makeOutcome, putOutcome, REFUSED_TXT, startHarness, type Harness } from './helpers.js';

/** Webhook receivers as a customer would write them: a real HTTP server that checks the signature. */
const SECRET = 'whsec-test-0123456789';

interface Hit {
  body: string;
  signature: string;
  delivery: string;
  valid: boolean;
}

interface Receiver {
  url: string;
  hits: Hit[];
  /** resolves when `n` requests have arrived */
  waitFor(n: number): Promise<Hit[]>;
  close(): Promise<void>;
}

function verify(body: string, header: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac('sha256', SECRET).update(`${m[1]}.${body}`).digest();
  const fresh = Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
  return fresh && timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

async function receiver(answer: (n: number, res: ServerResponse) => void): Promise<Receiver> {
  const hits: Hit[] = [];
  const waiters: { n: number; resolve: (h: Hit[]) => void }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['x-casedrop-signature'] ?? '');
      hits.push({ body, signature, delivery: String(req.headers['x-casedrop-delivery'] ?? ''), valid: verify(body, signature) });
      for (const w of waiters.filter((w) => hits.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hits);
      }
      answer(hits.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits,
    waitFor: (n) => (hits.length >= n ? Promise.resolve(hits) : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const ok = (_n: number, res: ServerResponse) => res.writeHead(204).end();

let h: Harness | undefined;
const receivers: Receiver[] = [];

afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  await h?.close();
  h = undefined;
});

async function start(...answers: ((n: number, res: ServerResponse) => void)[]): Promise<{ h: Harness; rs: Receiver[] }> {
  const rs = await Promise.all(answers.map(receiver));
  receivers.push(...rs);
  h = await startHarness({ CASEDROP_WEBHOOK_URLS: rs.map((r) => r.url).join(','), CASEDROP_WEBHOOK_SECRET: SECRET }, { webhookTimeoutMs: 5000 });
  return { h, rs };
}

describe('webhooks', () => {
  it('POSTs the signed JSON event to every URL', async () => {
    const { h, rs } = await start(ok, ok);
    const outcome = makeOutcome({ kind: 'partial', refused: [REFUSED_TXT] });
    await h.notify(outcome);
    for (const [n, r] of rs.entries()) {
      const [hit] = await r.waitFor(1);
      expect(hit!.valid).toBe(true);
      expect(hit!.delivery).toBe(`${outcome.spoolId}-webhook-${n}`);
      expect(JSON.parse(hit!.body)).toEqual({
        event: 'message.processed',
        case: CASE,
        kind: 'partial',
        files: [
          { name: 'logs.7z', originalName: 'logs.7z', size: 104_857, sha256: 'a'.repeat(64), verdict: 'accepted', format: '7z', cipher: 'AES-256' },
          { name: 'report.txt', size: 3277, sha256: null, verdict: 'refused', format: 'unknown', reason: 'unencrypted' },
        ],
        refused: 1,
        messageId: outcome.messageId,
        spoolId: outcome.spoolId,
        time: outcome.processedAt,
      });
    }
    for (const n of [0, 1]) await h.settle('webhook', `${outcome.spoolId}-webhook-${n}`);
    expect(
      h.logLines
        .filter((l) => l.msg === 'webhook delivered')
        .map((l) => l.webhook)
        .sort(),
    ).toEqual([0, 1]);
    // a URL may carry credentials: the log names the webhook by index only
    expect(JSON.stringify(h.logLines)).not.toContain('127.0.0.1');
  });

  it('retries an endpoint that fails (500, then 200), signing each attempt', async () => {
    const { h, rs } = await start((n, res) => res.writeHead(n === 1 ? 500 : 200).end());
    const outcome = makeOutcome();
    await h.notify(outcome);
    const job = await h.settle('webhook', `${outcome.spoolId}-webhook-0`);
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(2);
    expect(rs[0]!.hits.map((x) => x.valid)).toEqual([true, true]);
  });

  it('gives up at once on an answer that will not change (404)', async () => {
    const { h } = await start((_n, res) => res.writeHead(404).end());
    const outcome = makeOutcome();
    await h.notify(outcome);
    const job = await h.settle('webhook', `${outcome.spoolId}-webhook-0`);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe('webhook answered 404');
  });

  it('a hanging endpoint does not delay another one', async () => {
    const { h, rs } = await start(() => undefined /* never answers */, ok);
    const outcome = makeOutcome();
    await putOutcome(h.store, outcome);
    await h.queues.notify.add('outcome', { outcomeId: `outcomes/${outcome.spoolId}` }, { jobId: outcome.spoolId });
    // the healthy endpoint is served while the first request is still open
    await rs[1]!.waitFor(1);
    await rs[0]!.waitFor(1);
    expect(await (await h.queues.webhook.getJob(`${outcome.spoolId}-webhook-0`))!.getState()).toBe('active');
    expect(await (await h.settle('webhook', `${outcome.spoolId}-webhook-1`)).getState()).toBe('completed');
  });

  it('sends nothing unsigned: URLs without a secret are refused with an error at start', async () => {
    const r = await receiver(ok);
    receivers.push(r);
    h = await startHarness({ CASEDROP_WEBHOOK_URLS: r.url });
    const outcome = makeOutcome();
    await h.notify(outcome);
    expect(await h.queues.webhook.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      completed: 0,
      failed: 0,
    });
    expect(h.logLines.some((l) => l.level === 50 && String(l.msg).includes('without CASEDROP_WEBHOOK_SECRET'))).toBe(true);
    expect(r.hits).toEqual([]);
  });
});
