import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { RedisCaseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { caseFilesNamespace, outcomeId } from '../../src/jobs/ids.js';
import type { Outcome } from '../../src/jobs/types.js';
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
  ({ config, cleanup } = testConfig({ CASEDROP_RELAY_URL: sink.url, CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0', CASEDROP_DEDUP_WINDOW_SECONDS: '0', CASEDROP_REPLY_RATE_PER_HOUR: '1000' }));
  const redis = createRedis(config, 'cli');
  await new RedisCaseRegistry(redis, config.redisPrefix, config.caseDigits).open(CASE, 'engineer@example.com');
  redis.disconnect();
  running = await serve(config, 'all', createLogger('silent'));
  store = await openStore(config, createLogger('silent'));
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
  const deadline = Date.now() + 20_000;
  while (!(await store.exists(outcomeId(spoolId)))) {
    if (Date.now() > deadline) throw new Error(`no outcome for ${spoolId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(outcomeId(spoolId))) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Outcome;
}

async function storedNames(): Promise<string[]> {
  const names: string[] = [];
  for (const id of await store.list(`${caseFilesNamespace(CASE)}/`)) names.push(String((await store.head(id)).meta.originalName));
  return names;
}

describe('an SMTP send ends as files in the case, with one answer each', () => {
  it('stores the encrypted archives of a mixed message, refuses the rest, and sends a DSN naming them', async () => {
    const outcome = await outcomeOf(await send('verdicts.eml'));
    expect(outcome.kind).toBe('partial');
    expect(outcome.stored.map((f) => f.originalName).sort()).toEqual(['aes.7z', 'aes.zip']);
    expect(outcome.refused.map((f) => [f.originalName, f.reason]).sort()).toEqual([['plain.zip', 'unencrypted'], ['zipcrypto.zip', 'weak-zipcrypto']]);
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
