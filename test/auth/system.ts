import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import nodemailer from 'nodemailer';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisCaseContacts } from '../../src/cases/contacts.js';
import { caseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { outcomeId } from '../../src/jobs/ids.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName, type Outcome } from '../../src/jobs/types.js';
import { createLogger } from '../../src/log.js';
import { createRedis } from '../../src/redis.js';
import { serve, type Running } from '../../src/serve.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';
import { startSink, type Sink } from '../notify/sink.js';
import type { TxtRecords } from './dns-server.js';

/**
 * The whole of casedrop in one process (`serve --role all`) against a real DNS server on loopback,
 * a real SMTP sink as its relay, and a real SMTP client (nodemailer) that signs with DKIM when asked.
 * Every client connects from 127.0.0.1, so the test zone says which domains allow that address.
 */
export const CASE = '612345678';
export const OTHER_CASE = '612345679';
export const OWNER = 'engineer@example.com';

export const AES_ZIP = readFileSync(join(import.meta.dirname, '../../fixtures/archives/zip/aes256.zip'));

/** A DKIM key pair for customer.test, made by node's crypto; the public half goes in the zone. */
export const customerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const customerPrivatePem = customerKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** a key whose public half is not published: its signatures fail */
export const wrongPrivatePem = otherKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export function testZone(): TxtRecords {
  const p = customerKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const zone: TxtRecords = {
    // the customer signs with DKIM; its SPF does not list 127.0.0.1, so only DKIM/DMARC can pass
    'customer.test': 'v=spf1 ip4:192.0.2.10 -all',
    's1._domainkey.customer.test': `v=DKIM1; k=rsa; p=${p}`,
    '_dmarc.customer.test': 'v=DMARC1; p=reject',
    // a victim whose address forgers use: SPF fails from 127.0.0.1, no DKIM
    'victim.test': 'v=spf1 ip4:192.0.2.20 -all',
    '_dmarc.victim.test': 'v=DMARC1; p=reject',
    // a sender whose SPF lists 127.0.0.1
    'spfok.test': 'v=spf1 ip4:127.0.0.1 -all',
  };
  for (let i = 1; i <= 40; i++) zone[`x${i}.test`] = 'v=spf1 -all';
  return zone;
}

export interface SendOptions {
  from: string;
  caseNumber?: string;
  /** From header, default the envelope sender */
  header?: string;
  attachments?: { filename: string; content: Buffer }[];
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  headers?: Record<string, string>;
  helo?: string;
}

export type SendResult = { ok: true; spoolId: string } | { ok: false; code: number; response: string };

export interface System {
  config: Config;
  running: Running;
  sink: Sink;
  store: ObjectStore;
  redis: Redis;
  queues: Record<'intake' | 'notify' | 'outbound', Queue>;
  send(o: SendOptions): Promise<SendResult>;
  outcome(spoolId: string): Promise<Outcome>;
  /**
   * waits until `count` intake jobs finished (each decides its replies and adds their outbound job
   * itself) and no notify or outbound job is waiting or running
   */
  settled(count: number): Promise<void>;
  /** runs the delayed digest and combined-notice jobs now instead of at their slot's end */
  flushBatches(): Promise<void>;
  close(): Promise<void>;
}

export async function startSystem(env: Record<string, string>, setup: { contacts?: Record<string, string[]> } = {}): Promise<System> {
  const sink = await startSink();
  const { config, cleanup } = testConfig({
    CASEDROP_RELAY_URL: sink.url,
    CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0',
    CASEDROP_DEDUP_WINDOW_SECONDS: '0',
    CASEDROP_AUTH_TRUSTED_NETWORKS: '',
    CASEDROP_DNS_TIMEOUT_MS: '3000',
    CASEDROP_JOB_BACKOFF_MS: '100',
    ...env,
  });
  const redis = createRedis(config, 'worker');
  const store = await openStore(config, createLogger('silent'));
  const registry = caseRegistry(store, redis, config, createLogger('silent'));
  await registry.open(CASE, OWNER);
  await registry.open(OTHER_CASE, OWNER);
  const contacts = new RedisCaseContacts(redis, config.redisPrefix, config.caseDigits);
  for (const [n, entries] of Object.entries(setup.contacts ?? {})) for (const e of entries) await contacts.add(n, e);
  const running = await serve(config, 'all', createLogger('silent'));
  const queues = {
    intake: createQueue(config, QueueName.intake, redis),
    notify: createQueue(config, QueueName.notify, redis),
    outbound: createQueue(config, QueueName.outbound, redis),
  };

  async function send(o: SendOptions): Promise<SendResult> {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: running.smtpPort,
      secure: false,
      ignoreTLS: true,
      name: o.helo ?? 'client.test',
      ...(o.dkim ? { dkim: o.dkim } : {}),
    });
    try {
      const info = await transport.sendMail({
        envelope: { from: o.from, to: ['attach@localhost'] },
        from: o.header ?? o.from,
        to: 'attach@localhost',
        subject: `Case ${o.caseNumber ?? CASE} diagnostics`,
        text: 'the logs you asked for',
        headers: o.headers ?? {},
        attachments: o.attachments ?? [],
      });
      const id = /queued as (\S+)/.exec(info.response)?.[1];
      if (!id) throw new Error(`no queue id in ${info.response}`);
      return { ok: true, spoolId: id };
    } catch (err) {
      const e = err as { responseCode?: number; response?: string };
      if (typeof e.responseCode !== 'number') throw err;
      return { ok: false, code: e.responseCode, response: e.response ?? '' };
    } finally {
      transport.close();
    }
  }

  async function outcome(spoolId: string): Promise<Outcome> {
    await vi.waitFor(
      async () => {
        if (!(await store.exists(outcomeId(spoolId)))) throw new Error(`no outcome for ${spoolId} yet`);
      },
      { timeout: 60_000, interval: 50 },
    );
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(outcomeId(spoolId))) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Outcome;
  }

  async function settled(count: number): Promise<void> {
    await vi.waitFor(
      async () => {
        const i = await queues.intake.getJobCounts('completed', 'failed');
        const n = await queues.notify.getJobCounts('waiting', 'active', 'delayed');
        const o = await queues.outbound.getJobCounts('waiting', 'active');
        // an outbound job waiting to be retried counts as unfinished; a batch job waits for its slot on purpose
        const retrying = (await queues.outbound.getJobs(['delayed'])).filter((j) => !j.data.batch).length;
        const c = (x: number | undefined) => x ?? 0;
        if (c(i.completed) + c(i.failed) < count || c(n.waiting) + c(n.active) + c(n.delayed) + c(o.waiting) + c(o.active) + retrying > 0)
          throw new Error(`intake ${JSON.stringify(i)}, notify ${JSON.stringify(n)}, outbound ${JSON.stringify(o)}, retrying ${retrying}`);
      },
      { timeout: 180_000, interval: 100 },
    );
  }

  async function flushBatches(): Promise<void> {
    // promote until nothing is delayed: a batch job's retry (after a failed send) is delayed too
    await vi.waitFor(
      async () => {
        for (const job of await queues.outbound.getJobs(['delayed'])) await job.promote().catch(() => undefined);
        const o = await queues.outbound.getJobCounts('waiting', 'active', 'delayed');
        if ((o.waiting ?? 0) + (o.active ?? 0) + (o.delayed ?? 0) > 0) throw new Error(`outbound ${JSON.stringify(o)}`);
      },
      { timeout: 120_000, interval: 100 },
    );
  }

  return {
    config,
    running,
    sink,
    store,
    redis,
    queues,
    send,
    outcome,
    settled,
    flushBatches,
    async close() {
      await running.stop();
      await Promise.all(Object.values(queues).map((q) => q.close()));
      redis.disconnect();
      await sink.close();
      await cleanup();
    },
  };
}

export const refusedFile = (name: string) => ({ filename: name, content: Buffer.from(`plain text log ${name}\n`.repeat(20)) });
export const storedFile = (name: string) => ({ filename: name, content: AES_ZIP });
export const signedAsCustomer = { domainName: 'customer.test', keySelector: 's1', privateKey: customerPrivatePem };
