import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisCaseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { newId } from '../../src/ids.js';
import { createLogger } from '../../src/log.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName, type Outcome, type SpoolMeta } from '../../src/jobs/types.js';
import { openStore } from '../../src/store/index.js';
import type { ObjectStore } from '../../src/store/types.js';
import { verify } from '../../src/verify/index.js';
import type { VerifyInput, VerifyResult } from '../../src/verify/types.js';
import { redisNameRegistry, type NameRegistry } from '../../src/pipeline/stored-names.js';

export const CASE = '612345678';
export const silent = createLogger('silent');
export const MAIL_DIR = join(import.meta.dirname, '../../fixtures/mail');

export function sample(name: string): Buffer {
  return readFileSync(join(MAIL_DIR, name));
}

export async function openTestStore(config: Config): Promise<ObjectStore> {
  return openStore(config, silent);
}

export function registryFor(config: Config, redis: Redis): RedisCaseRegistry {
  return new RedisCaseRegistry(redis, config.redisPrefix, config.caseDigits);
}

/** What the SMTP door does for each accepted message: the spool object, then the intake job. */
export async function spool(store: ObjectStore, raw: Buffer, overrides: Partial<SpoolMeta> = {}, queue?: Queue): Promise<string> {
  const spoolId = overrides.spoolId ?? newId();
  const meta: SpoolMeta = {
    spoolId,
    caseNumber: CASE,
    receivedAt: new Date().toISOString(),
    mailFrom: 'customer@example.com',
    rcptTo: ['attach@localhost'],
    clientAddress: '127.0.0.1',
    sessionId: 'test-session',
    automatic: false,
    ...overrides,
  };
  const received = Buffer.from(`Received: from test (127.0.0.1) by localhost; ${new Date().toUTCString()}\r\n`);
  await store.put('spool', Readable.from([Buffer.concat([received, raw])]), { ...meta }, { name: spoolId });
  if (queue) await queue.add('message', { spoolId }, { jobId: spoolId });
  return spoolId;
}

export function intakeQueue(config: Config, redis: Redis): Queue {
  return createQueue(config, QueueName.intake, redis);
}

export async function readOutcome(store: ObjectStore, spoolId: string): Promise<Outcome> {
  return JSON.parse((await readAll(await store.get(`outcomes/${spoolId}`))).toString('utf8')) as Outcome;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The real verifier: the pipeline's tests judge attachments exactly as production does. */
export const realVerify = (input: VerifyInput): Promise<VerifyResult> => verify(input);

/** Stored-name reservations in the test run's own Redis prefix. */
export function namesFor(config: Config, redis: Redis): NameRegistry {
  return redisNameRegistry(redis, config.redisPrefix);
}

/** Collects notify jobs the way the notify stage would see them. */
export function notifyQueue(config: Config, redis: Redis): Queue {
  return createQueue(config, QueueName.notify, redis);
}
