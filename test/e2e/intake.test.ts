import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import nodemailer from 'nodemailer';
import { caseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { caseFilesNamespace, outcomeId } from '../../src/jobs/ids.js';
import { outcomeSchema, type Outcome } from '../../src/jobs/records.js';
import { createLogger } from '../../src/log.js';
import { registry } from '../../src/metrics.js';
import { createRedis } from '../../src/redis.js';
import { serve, type Running } from '../../src/serve.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';
import { startSink, type Sink } from './sink.js';

/**
 * End to end, in one process as `serve --role all` runs it: a real SMTP client sends the committed
 * sample messages (fixtures/make-mail-samples.py) through the front door; the worker stores what
 * verifies; the notify stage answers through a real SMTP sink.
 */
const mailDir = join(import.meta.dirname, '../../fixtures/mail');
const CASE = '612345678';

let config: Config;
let cleanup: () => Promise<void>;
let running: Running;
let sink: Sink;
let store: ObjectStore;

beforeAll(async () => {
  sink = await startSink();
  ({ config, cleanup } = testConfig({
    CASEDROP_RELAY_URL: sink.url,
    CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0',
    CASEDROP_DEDUP_WINDOW_SECONDS: '0',
    CASEDROP_REPLY_RATE_PER_HOUR: '1000',
  }));
  const redis = createRedis(config, 'cli');
  store = await openStore(config, createLogger('silent'));
  await caseRegistry(store, redis, config, createLogger('silent')).open(CASE, 'engineer@example.com');
  redis.disconnect();
  running = await serve(config, 'all', createLogger('silent'));
});

afterAll(async () => {
  await running?.stop();
  await sink?.close();
  await cleanup?.();
});

async function send(file: string): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: running.smtpPort, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({ envelope: { from: 'customer@example.com', to: ['attach@localhost'] }, raw: readFileSync(join(mailDir, file)) });
    const id = /queued as (\S+)/.exec(info.response)?.[1];
    if (!id) throw new Error(`no queue id in ${info.response}`);
    return id;
  } finally {
    transport.close();
  }
}

async function outcomeOf(spoolId: string): Promise<Outcome> {
  await vi.waitFor(async () => expect(await store.exists(outcomeId(spoolId))).toBe(true), { timeout: 20_000, interval: 50 });
  return outcomeSchema.parse(JSON.parse((await buffer(await store.get(outcomeId(spoolId)))).toString('utf8')));
}

async function storedNames(): Promise<string[]> {
  const names: string[] = [];
  for (const id of await store.list(`${caseFilesNamespace(CASE)}/`)) names.push(String((await store.head(id)).meta.originalName));
  return names;
}

/** Every series a message moves, summed over its labels (histograms by their count). */
async function seriesTotals(): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      const name = 'metricName' in v && typeof v.metricName === 'string' ? v.metricName : metric.name;
      if (/_(bucket|sum)$/.test(name)) continue;
      const labels = Object.entries(v.labels)
        .filter(([k]) => k !== 'le')
        .map(([k, x]) => `${k}=${String(x)}`)
        .sort()
        .join(',');
      totals.set(`${name}{${labels}}`, (totals.get(`${name}{${labels}}`) ?? 0) + v.value);
    }
  }
  return totals;
}

/**
 * Series a plain message never moves (another door, a hostile client, a fault): each is proven to
 * move by the test named here. A new metric belongs in this e2e test or in this list.
 */
const movedElsewhere: Record<string, string> = {
  casedrop_smtp_probe_total: 'test/smtp/probing.test.ts',
  casedrop_objects_quarantined_total: 'test/pipeline/quarantine.test.ts',
  casedrop_replies_untrusted_total: 'test/auth/trust-replies.test.ts',
  casedrop_reply_cap_hits_total: 'test/auth/no-flood.test.ts',
  casedrop_upload_login_failures_total: 'test/upload/login.test.ts',
  casedrop_upload_logins_blocked_total: 'test/upload/login-limit.test.ts',
  casedrop_uploads_total: 'test/upload/put.test.ts',
  casedrop_upload_bytes_total: 'test/upload/put.test.ts',
  casedrop_uploads_expired_total: 'test/upload/resume.test.ts',
  casedrop_store_write_bytes_total: 'test/store/direct-io.test.ts',
};

describe('metrics', () => {
  // the process's own series (CPU, heap, event loop) come from prom-client; these are casedrop's
  const own = (name: string) => name.startsWith('casedrop_') && !/^casedrop_(process|nodejs)_/.test(name);

  it('moves every casedrop series a mixed message passes through, each with the labels that say what happened', async () => {
    const before = await seriesTotals();
    const outcome = await outcomeOf(await send('verdicts.eml'));
    // the replies go out after the outcome; one outbound job carries the DSN and the engineer notice
    // and finishes after both are handed over
    const moved = (key: string, after: Map<string, number>) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    await vi.waitFor(async () => expect(moved('casedrop_jobs_total{queue=outbound,result=completed}', await seriesTotals())).toBe(1), { timeout: 20_000 });
    const after = await seriesTotals();
    expect(moved('casedrop_smtp_replies_total{code=250,reason=queued}', after)).toBe(1);
    expect(moved('casedrop_smtp_accept_seconds_count{}', after)).toBe(1);
    expect(moved('casedrop_files_total{reason=encrypted,verdict=accept}', after)).toBe(outcome.stored.length);
    expect(moved('casedrop_files_total{reason=unencrypted,verdict=reject}', after)).toBe(1);
    expect(moved('casedrop_files_total{reason=weak-zipcrypto,verdict=reject}', after)).toBe(1);
    expect(moved('casedrop_jobs_total{queue=intake,result=completed}', after)).toBe(1);
    // two BullMQ jobs per message: the intake job decides the replies and adds the outbound job itself
    expect(moved('casedrop_jobs_total{queue=notify,result=completed}', after)).toBe(0);
    expect(moved('casedrop_jobs_total{queue=outbound,result=completed}', after)).toBe(1);
    expect(moved('casedrop_replies_total{kind=dsn,result=sent}', after)).toBe(1);
    expect(moved('casedrop_replies_total{kind=engineer,result=sent}', after)).toBe(1);
    // and no casedrop metric is left that nothing moves
    const metricsMoved = new Set([...after.keys()].filter((k) => moved(k, after) > 0).map((k) => k.replace(/(_count)?\{.*$/, '')));
    const declared = (await registry.getMetricsAsJSON()).map((m) => m.name).filter(own);
    expect(declared.filter((name) => !metricsMoved.has(name) && !(name in movedElsewhere))).toEqual([]);
  });
});

describe('an SMTP send ends as files in the case, with one answer each', () => {
  it('stores the encrypted archives of a mixed message, refuses the rest, and sends a DSN naming them', async () => {
    const outcome = await outcomeOf(await send('verdicts.eml'));
    expect(outcome.kind).toBe('partial');
    expect(outcome.stored.map((f) => f.originalName).sort()).toEqual(['aes.7z', 'aes.zip']);
    expect(outcome.refused.map((f) => [f.originalName, f.reason]).sort()).toEqual([
      ['plain.zip', 'unencrypted'],
      ['zipcrypto.zip', 'weak-zipcrypto'],
    ]);
    expect(await storedNames()).toEqual(expect.arrayContaining(['aes.7z', 'aes.zip']));
    const mails = await sink.waitFor(2);
    const dsn = mails.find((m) => m.rcptTo.includes('customer@example.com'));
    expect(dsn?.mailFrom).toBe('');
    expect(dsn?.parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/report', params: { 'report-type': 'delivery-status' } });
    expect(dsn?.parsed.text).toContain('zipcrypto.zip');
    expect(dsn?.parsed.text).toContain('7z a -tzip -mem=AES256');
    const notice = mails.find((m) => m.rcptTo.includes('engineer@example.com'));
    expect(notice?.parsed.subject).toContain(CASE);
  });

  it('keeps non-ASCII names from RFC 2231 and encoded-word parameters', async () => {
    const a = await outcomeOf(await send('rfc2231-name.eml'));
    const b = await outcomeOf(await send('encoded-word-name.eml'));
    expect(a.stored.map((f) => f.originalName)).toEqual(['Résumé 日本語 ログ.7z']);
    expect(b.stored.map((f) => f.originalName)).toEqual(['Données ünïcödé.7z']);
  });

  it('does not count an inline cid: image as a file, and finds files inside a forwarded message', async () => {
    const inline = await outcomeOf(await send('inline-cid-image.eml'));
    expect([...inline.stored, ...inline.refused].map((f) => f.originalName).some((n) => /\.(png|gif|jpe?g)$/i.test(n))).toBe(false);
    const forwarded = await outcomeOf(await send('forwarded.eml'));
    expect(forwarded.stored.length).toBeGreaterThan(0);
  });

  it('answers a message without attachments with no-attachment, keeping its text as a note', async () => {
    const outcome = await outcomeOf(await send('no-attachment.eml'));
    expect(outcome.kind).toBe('no-attachment');
    expect(outcome.noteId).toBeDefined();
  });
});
