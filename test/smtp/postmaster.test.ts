import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { smtpReplies } from '../../src/metrics.js';
import { serve, type Running } from '../../src/serve.js';
import { openStore } from '../../src/store/open.js';
import { testConfig } from '../helpers/env.js';
import { startSink, type Sink } from '../e2e/sink.js';
import { queuedId, sendWithNodemailer } from './door.js';

/**
 * RFC 5321 4.5.1: postmaster@<intake domain> is accepted and forwarded unchanged to the operator
 * (CASEDROP_POSTMASTER_ADDRESS through the relay, else the outbox); no case, no reply, and the
 * spool object is gone once forwarded. The whole service runs (`serve --role all`), real Redis.
 */
const raw = Buffer.from(
  [
    'From: Remote Admin <admin@remote.example>',
    'To: postmaster@localhost',
    'Subject: your server sent us a bounce loop',
    'Message-ID: <pm-1@remote.example>',
    '',
    'Hello postmaster,',
    '.leading dot line',
    'no case number anywhere.',
    '',
  ].join('\r\n'),
);

async function postmasterAloneCount(): Promise<number> {
  const metric = await smtpReplies.get();
  return metric.values.find((v) => v.labels.reason === 'postmasterAlone')?.value ?? 0;
}

async function start(env: Record<string, string>): Promise<{ config: Config; running: Running; cleanup: () => Promise<void> }> {
  const { config, cleanup } = testConfig({ CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0', ...env });
  const running = await serve(config, 'all', createLogger('silent'));
  return { config, running, cleanup };
}

describe('postmaster with an operator address, through the relay', () => {
  let sink: Sink;
  let config: Config;
  let running: Running;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    sink = await startSink();
    ({ config, running, cleanup } = await start({ CASEDROP_RELAY_URL: sink.url, CASEDROP_POSTMASTER_ADDRESS: 'ops@operator.example' }));
  });
  afterAll(async () => {
    await running?.stop();
    await sink?.close();
    await cleanup?.();
  });

  it('accepts postmaster@<intake domain> with 250 and forwards the message unchanged to the operator address', async () => {
    const sent = await sendWithNodemailer(running.smtpPort!, raw, { from: 'admin@remote.example', to: 'PostMaster@LOCALHOST' });
    expect(sent.code).toBe(250);
    const id = queuedId(sent.text);
    expect(id).toBeDefined();
    const [mail] = await sink.waitFor(1);
    expect(mail!.rcptTo).toEqual(['ops@operator.example']);
    expect(mail!.mailFrom).toBe('');
    // our Received header on top, then the bytes the client sent, unchanged
    expect(mail!.raw.toString('utf8')).toMatch(/^Received: /);
    expect(mail!.raw.subarray(mail!.raw.length - raw.length).equals(raw)).toBe(true);
    const store = await openStore(config, createLogger('silent'));
    await vi.waitFor(async () => expect(await store.exists(`spool/${id!}`)).toBe(false), { timeout: 20_000, interval: 50 });
    // no case, no reply to the sender: the operator's copy is the only mail
    expect(sink.messages).toHaveLength(1);
  });

  it('accepts bare postmaster (RFC 5321 4.5.1)', async () => {
    const sent = await sendWithNodemailer(running.smtpPort!, raw, { from: 'admin@remote.example', to: 'postmaster' });
    expect(sent.code).toBe(250);
    await sink.waitFor(2);
    expect(sink.messages[1]!.rcptTo).toEqual(['ops@operator.example']);
  });

  it('still refuses postmaster@ a domain that is not ours with 550 5.1.1', async () => {
    const sent = await sendWithNodemailer(running.smtpPort!, raw, { from: 'admin@remote.example', to: 'postmaster@other.example' });
    expect(sent.code).toBe(550);
    expect(sent.text).toContain('5.1.1');
  });

  it('refuses an intake recipient after postmaster with 452 4.5.3, so it travels in its own message', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: running.smtpPort!, secure: false, ignoreTLS: true });
    try {
      const info = (await transport.sendMail({
        envelope: { from: 'admin@remote.example', to: ['postmaster@localhost', 'attach@localhost'] },
        raw,
      })) as { response: string; rejected: string[]; rejectedErrors?: { response?: string }[] };
      expect(info.response).toMatch(/^250 /);
      expect(info.rejected).toEqual(['attach@localhost']);
      expect(info.rejectedErrors?.[0]?.response).toMatch(/^452 4\.5\.3 /);
    } finally {
      transport.close();
    }
    await sink.waitFor(3);
    expect(sink.messages[2]!.rcptTo).toEqual(['ops@operator.example']);
  });

  it('refuses postmaster after an intake recipient with 452 4.5.3, leaving the intake message to its own rules', async () => {
    const before = await postmasterAloneCount();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: running.smtpPort!, secure: false, ignoreTLS: true });
    try {
      const err = (await transport.sendMail({ envelope: { from: 'admin@remote.example', to: ['attach@localhost', 'postmaster@localhost'] }, raw }).then(
        () => undefined,
        (e: unknown) => e,
      )) as { responseCode?: number } | undefined;
      // the intake message itself names no case: refused at DATA, as without postmaster
      expect(err?.responseCode).toBe(550);
    } finally {
      transport.close();
    }
    // nodemailer does not report which RCPT was refused on a failed send: the door's reply counter does
    expect(await postmasterAloneCount()).toBe(before + 1);
    expect(sink.messages).toHaveLength(3);
  });
});

describe('postmaster without an operator address', () => {
  let config: Config;
  let running: Running;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ config, running, cleanup } = await start({}));
  });
  afterAll(async () => {
    await running?.stop();
    await cleanup?.();
  });

  it('writes the message unchanged to the outbox', async () => {
    const sent = await sendWithNodemailer(running.smtpPort!, raw, { from: 'admin@remote.example', to: 'postmaster@localhost' });
    expect(sent.code).toBe(250);
    const id = queuedId(sent.text)!;
    const outbox = join(config.dataDir, 'outbox');
    const file = join(outbox, `${id}.eml`);
    await vi.waitFor(() => expect(readdirSync(outbox)).toContain(`${id}.eml`), { timeout: 20_000, interval: 50 });
    const written = readFileSync(file);
    expect(written.toString('utf8')).toMatch(/^Return-Path: <>\r\nReceived: /);
    expect(written.subarray(written.length - raw.length).equals(raw)).toBe(true);
    expect(readdirSync(outbox)).toHaveLength(1);
  });
});
