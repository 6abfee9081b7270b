import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboundJobId } from '../../src/jobs/ids.js';
import { makeOutcome, startHarness, type Harness } from './helpers.js';

/**
 * Exactly-once replies without BullMQ's memory: BullMQ forgets completed job ids (removeOnComplete
 * keeps the last 10,000, and a Redis that restarted empty keeps none), after which a re-queued job
 * id is new to it. The durable markers next to the outcome (src/notify/sent.ts) must stop the
 * second mail however the job comes back.
 */
let h: Harness;
const MESSAGES = 12;
const writes = () => h.logLines.filter((l) => l.msg === 'mail written to the outbox (no relay configured)').map((l) => String(l.path));

beforeEach(async () => {
  // every message gets its own reply and notice here: the caps that would combine them are not what is tested
  h = await startHarness({ CASEDROP_REPLY_RATE_PER_HOUR: '1000', CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR: '1000' });
});
afterEach(async () => {
  await h.close();
});

/** What pruning to 10 does to the oldest jobs, done to all of them: BullMQ no longer knows any id. */
async function forgetCompleted(): Promise<void> {
  for (const q of [h.queues.notify, h.queues.outbound]) await q.clean(0, 10_000, 'completed');
  expect(await h.queues.outbound.getCompletedCount()).toBe(0);
}

describe('replies survive pruning', () => {
  it('re-queueing every outcome (notify jobs, and their outbound jobs directly) sends no second mail', async () => {
    const outcomes = Array.from({ length: MESSAGES }, () => makeOutcome());
    for (const o of outcomes) await h.notify(o);
    expect(writes()).toHaveLength(2 * MESSAGES);
    await forgetCompleted();

    // as recovery or an operator would: the notify job of every outcome again
    for (const o of outcomes) await h.notify(o);
    // and, below it, every outbound job again (a Redis that lost the notify job's completion)
    for (const o of outcomes) {
      for (const [kind, jobId] of [
        ['receipt', outboundJobId.sender(o.spoolId)],
        ['engineer', outboundJobId.engineer(o.spoolId)],
      ] as const) {
        await h.queues.outbound.add(kind, { spoolId: o.spoolId, kind, senderReply: 'receipt' }, { jobId });
        expect((await h.settle('outbound', jobId)).finishedOn, jobId).toBeDefined();
      }
    }
    const paths = writes();
    expect(paths).toHaveLength(2 * MESSAGES);
    expect(new Set(paths).size).toBe(2 * MESSAGES);
    expect(h.logLines.filter((l) => l.event === 'reply_already_sent')).toHaveLength(2 * MESSAGES);
    for (const o of outcomes) expect(await h.store.exists(`replies/${o.spoolId}`), 'settled').toBe(true);
  });
});
