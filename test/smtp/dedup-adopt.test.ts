import { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { createLogger } from '../../src/log.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName, type IntakeJobData } from '../../src/jobs/types.js';
import { createRedis } from '../../src/redis.js';
import { Dedup } from '../../src/smtp/dedup.js';
import { Spool } from '../../src/smtp/spool.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';

/**
 * A door killed between writing the spool object and queueing it: its client got no 250 and sends
 * the message again. Recovery will queue the original (src/pipeline/recovery.ts); if the resend were
 * queued too, the case would get the file twice. The door's dedup answers the resend "already
 * queued" and queues the original itself, so exactly one copy is ever processed.
 */
const env = testConfig({ CASEDROP_DEDUP_WINDOW_SECONDS: '600' });
let redis: Redis;
let store: ObjectStore;
let queue: Queue<IntakeJobData>;
let spool: Spool;
let dedup: Dedup;

beforeAll(async () => {
  redis = createRedis(env.config, 'worker');
  store = await openStore(env.config, createLogger('silent'));
  queue = createQueue(env.config, QueueName.intake, redis) as Queue<IntakeJobData>;
  spool = new Spool(store, queue, () => true);
  dedup = new Dedup(redis, env.config.redisPrefix, env.config.dedupWindowSeconds, (id) => spool.isKnown(id));
});
afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await env.cleanup();
});

async function spooledWithoutJob(spoolId: string, messageId: string): Promise<void> {
  await store.put('spool', Readable.from([Buffer.from('Subject: Case 612345678\r\n\r\nhello\r\n')]), { spoolId, messageId }, { name: spoolId });
  // what the dead door had done: the claim, then nothing more
  expect((await dedup.claim(messageId, 'f'.repeat(64), spoolId)).duplicateOf).toBeUndefined();
}

describe('the resend of a message whose door died before queueing it', () => {
  it('is answered as a duplicate of the original, which is queued under its own id', async () => {
    const original = newId(Date.now() - 5 * 60_000);
    await spooledWithoutJob(original, '<dead-door@example.com>');
    const claim = await dedup.claim('<dead-door@example.com>', 'f'.repeat(64), newId());
    expect(claim.duplicateOf).toBe(original);
    expect((await queue.getJob(original))?.data).toEqual({ spoolId: original });
    // a second resend finds the job and changes nothing
    expect((await dedup.claim('<dead-door@example.com>', 'f'.repeat(64), newId())).duplicateOf).toBe(original);
    expect((await queue.getJobs(['waiting'])).filter((j) => j.data.spoolId === original)).toHaveLength(1);
  });

  it('while the original is young its door may still be queueing it: the resend is not answered for it', async () => {
    const original = newId();
    await spooledWithoutJob(original, '<busy-door@example.com>');
    const claim = await dedup.claim('<busy-door@example.com>', 'f'.repeat(64), newId());
    expect(claim.duplicateOf).toBeUndefined();
    expect(await queue.getJob(original)).toBeUndefined();
  });

  it('an original its door gave up on (abandoned, 4xx) is never adopted', async () => {
    const original = newId(Date.now() - 5 * 60_000);
    await spooledWithoutJob(original, '<gave-up@example.com>');
    await store.put('abandoned', Readable.from([]), { spoolId: original }, { name: original });
    expect((await dedup.claim('<gave-up@example.com>', 'f'.repeat(64), newId())).duplicateOf).toBeUndefined();
    expect(await queue.getJob(original)).toBeUndefined();
  });
});
