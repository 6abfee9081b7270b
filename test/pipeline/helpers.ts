import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisCaseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import { newId } from '../../src/ids.js';
import { createLogger } from '../../src/log.js';
import { createQueue } from '../../src/pipeline/queues.js';
import { QueueName, type Outcome, type SpoolMeta } from '../../src/pipeline/types.js';
import { openStore } from '../../src/store/index.js';
import type { ObjectStore } from '../../src/store/types.js';
import type { VerifyInput, VerifyResult } from '../../src/verify/types.js';

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

/**
 * Until src/verify lands, unit tests of the job judge by magic bytes: 7z accepted, anything else
 * refused as unencrypted. The end-to-end test uses the real verifier.
 */
export async function magicVerify(input: VerifyInput): Promise<VerifyResult> {
  const buf = 'buffer' in input ? Buffer.from(input.buffer) : readFileSync(input.path);
  if (buf.subarray(0, 6).toString('hex') === '377abcaf271c') {
    return { format: '7z', verdict: 'accept', reason: 'encrypted', cipher: 'AES-256', details: { headersEncrypted: true }, advice: '' };
  }
  return { format: buf[0] === 0x50 ? 'zip' : 'unknown', verdict: 'reject', reason: 'unencrypted', details: {}, advice: 'Encrypt it: 7z a -p -mhe=on logs.7z <files>' };
}

/** Collects notify jobs the way the notify stage would see them. */
export function notifyQueue(config: Config, redis: Redis): Queue {
  return createQueue(config, QueueName.notify, redis);
}
