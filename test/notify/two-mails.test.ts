import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboundJobId } from '../../src/jobs/ids.js';
import type { OutboundJobData } from '../../src/jobs/types.js';
import { createLogger } from '../../src/log.js';
import { redisBatches } from '../../src/notify/batch.js';
import { redisCaps } from '../../src/notify/caps.js';
import type { Deliverer } from '../../src/notify/deliver.js';
import { processOutbound, type OutboundDeps } from '../../src/notify/outbound.js';
import { makeOutcome, putOutcome, startHarness, type Harness } from './helpers.js';

/**
 * One outbound job per message carries the engineer notice and the sender reply, sent in that order,
 * each behind its own marker. A worker that dies between the two (the notice out and marked, the
 * reply not yet handed over) leaves a job that BullMQ runs again: the retry must send the reply once
 * and never the notice a second time.
 */
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** Records each mail handed over; `dieAt` throws instead, as a killed process would stop there. */
function deliverer(sent: string[], dieAt?: string): Deliverer {
  return {
    deliver: (name) => {
      if (name === dieAt) return Promise.reject(new Error('worker killed'));
      sent.push(name);
      return Promise.resolve('250 ok');
    },
    close: () => undefined,
  };
}

function deps(d: Deliverer): OutboundDeps {
  return {
    config: h.config,
    store: h.store,
    registry: h.registry,
    deliverer: d,
    batches: redisBatches(h.redis, h.config.redisPrefix, h.config.digestIntervalSeconds * 1000),
    caps: redisCaps(h.redis, h.config.redisPrefix),
    capConfig: h.config,
    logger: createLogger('silent'),
  };
}

describe('one outbound job, two mails', () => {
  it('a worker dying between the notice and the reply: the retry sends the reply once and the notice not again', async () => {
    const outcome = makeOutcome();
    await putOutcome(h.store, outcome);
    const sender = outboundJobId.sender(outcome.spoolId);
    const engineer = outboundJobId.engineer(outcome.spoolId);
    const data: OutboundJobData = { spoolId: outcome.spoolId, kind: 'receipt', notice: true, senderReply: 'receipt', planned: [sender, engineer] };

    const sent: string[] = [];
    await expect(processOutbound(sender, data, deps(deliverer(sent, sender)))).rejects.toThrow('worker killed');
    expect(sent).toEqual([engineer]);
    expect(await h.store.exists(`replies/${engineer}`)).toBe(true);
    expect(await h.store.exists(`replies/${outcome.spoolId}`)).toBe(false);

    await processOutbound(sender, data, deps(deliverer(sent)));
    expect(sent).toEqual([engineer, sender]);
    expect(await h.store.exists(`replies/${outcome.spoolId}`), 'settled').toBe(true);

    // and a replay of the whole job (recovery, BullMQ's stalled check) sends nothing
    await processOutbound(sender, data, deps(deliverer(sent)));
    expect(sent).toEqual([engineer, sender]);
  });
});
