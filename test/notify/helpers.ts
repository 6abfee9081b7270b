import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { QueueEvents, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { caseRegistry, type DurableCaseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { newId } from '../../src/ids.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName, type Outcome, type RefusedFile } from '../../src/jobs/types.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startNotifyWorkers, type NotifyWorkers } from '../../src/notify/index.js';
import { createRedis } from '../../src/redis.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';

export const CASE = '612345678';
export const OWNER = 'engineer@example.com';

/** An outcome as the intake worker writes it; tests vary one field at a time. */
export function makeOutcome(overrides: Partial<Outcome> = {}): Outcome {
  const spoolId = overrides.spoolId ?? newId();
  const now = new Date().toISOString();
  return {
    spoolId,
    caseNumber: CASE,
    kind: 'stored',
    receivedAt: now,
    processedAt: now,
    mailFrom: 'customer@example.com',
    rcptTo: ['attach@localhost'],
    from: 'Customer <customer@example.com>',
    subject: `Case ${CASE} diagnostics`,
    messageId: `<${spoolId.toLowerCase()}@customer.example.com>`,
    automatic: false,
    stored: [
      {
        id: `cases/${CASE}/files/${spoolId}-p2`,
        originalName: 'logs.7z',
        storedName: 'logs.7z',
        size: 104_857,
        sha256: 'a'.repeat(64),
        format: '7z',
        cipher: 'AES-256',
      },
    ],
    refused: [],
    originalHeaders: [
      'Received: from client.example.com by localhost; Tue, 14 Jan 2025 10:00:00 +0000',
      'From: Customer <customer@example.com>',
      'To: attach@localhost',
      `Subject: Case ${CASE} diagnostics`,
      `Message-ID: <${spoolId.toLowerCase()}@customer.example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
    ].join('\r\n'),
    ...overrides,
  };
}

export const REFUSED_TXT: RefusedFile = {
  originalName: 'report.txt',
  size: 3277,
  format: 'unknown',
  reason: 'unencrypted',
  advice: 'Encrypt it before sending: 7z a -tzip -mem=AES256 -p logs.zip logs/',
};
export const REFUSED_ZIPCRYPTO: RefusedFile = {
  originalName: 'old.zip',
  size: 2048,
  format: 'zip',
  reason: 'weak-zipcrypto',
  advice: 'Make the zip with AES instead: 7z a -tzip -mem=AES256 -p logs.zip logs/',
};

/** Log lines a test can search, from a real pino logger. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

/**
 * One test's world: its own Redis prefix and data dir, a case with an owner, the three notify
 * workers, and QueueEvents so the test awaits jobs instead of sleeping.
 */
export interface Harness {
  config: Config;
  redis: Redis;
  store: ObjectStore;
  registry: DurableCaseRegistry;
  workers: NotifyWorkers;
  queues: Record<'notify' | 'outbound' | 'webhook', Queue>;
  logLines: Record<string, unknown>[];
  /** store the outcome, add its notify job, wait until it and every job it added have finished */
  notify(outcome: Outcome): Promise<Job>;
  /** wait for a finished state of a job (completed or failed) and return it fresh */
  settle(queue: 'notify' | 'outbound' | 'webhook', jobId: string): Promise<Job>;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}, opts: { webhookTimeoutMs?: number } = {}): Promise<Harness> {
  const { config, cleanup } = testConfig({ CASEDROP_JOB_ATTEMPTS: '3', CASEDROP_JOB_BACKOFF_MS: '50', ...env });
  const redis = createRedis(config, 'worker');
  const store = await openStore(config, createLogger('silent'));
  const registry = caseRegistry(store, redis, config, createLogger('silent'));
  await registry.open(CASE, OWNER);
  const { logger, lines } = captureLogger();
  const workers = startNotifyWorkers({ config, logger, store, registry, redis, ...opts });
  const names = ['notify', 'outbound', 'webhook'] as const;
  const queues = Object.fromEntries(names.map((n) => [n, createQueue(config, QueueName[n], redis)])) as Harness['queues'];
  const eventConnections: Redis[] = [];
  const events = Object.fromEntries(
    names.map((n) => {
      const connection = createRedis(config, 'worker');
      eventConnections.push(connection);
      return [n, new QueueEvents(QueueName[n], { connection, prefix: config.redisPrefix })];
    }),
  ) as Record<(typeof names)[number], QueueEvents>;
  await Promise.all(Object.values(events).map((e) => e.waitUntilReady()));

  async function settle(queue: (typeof names)[number], jobId: string): Promise<Job> {
    const job = await queues[queue].getJob(jobId);
    if (!job) throw new Error(`no ${queue} job ${jobId}`);
    await job.waitUntilFinished(events[queue]).catch(() => undefined);
    return (await queues[queue].getJob(jobId)) as Job;
  }

  async function notify(outcome: Outcome): Promise<Job> {
    await putOutcome(store, outcome);
    await queues.notify.add('outcome', { outcomeId: `outcomes/${outcome.spoolId}` }, { jobId: outcome.spoolId });
    const job = await settle('notify', outcome.spoolId);
    await settleChildren(outcome.spoolId);
    return job;
  }

  /** every outbound and webhook job of this outcome, whatever ids it was given */
  async function settleChildren(spoolId: string): Promise<void> {
    for (const q of ['outbound', 'webhook'] as const) {
      const jobs = await queues[q].getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
      // a digest waits for its slot on purpose: tests promote it when they want it sent
      for (const j of jobs.filter((j) => j.data.spoolId === spoolId && !j.data.batch)) await settle(q, j.id as string);
    }
  }

  return {
    config,
    redis,
    store,
    registry,
    workers,
    queues,
    logLines: lines,
    notify,
    settle,
    async close() {
      await workers.close();
      await Promise.all(Object.values(events).map(async (e) => e.close()));
      for (const c of eventConnections) c.disconnect();
      await Promise.all(Object.values(queues).map((q) => q.close()));
      redis.disconnect();
      await cleanup();
    },
  };
}

export async function putOutcome(store: ObjectStore, outcome: Outcome): Promise<void> {
  await store.put(
    'outcomes',
    Readable.from([Buffer.from(JSON.stringify(outcome))]),
    { spoolId: outcome.spoolId, caseNumber: outcome.caseNumber, kind: outcome.kind },
    { name: outcome.spoolId },
  );
}
