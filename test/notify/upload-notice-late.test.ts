import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseRegistry } from '../../src/cases/registry.js';
import type { Config } from '../../src/config/schema.js';
import type { AdmittedFile } from '../../src/intake/types.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName, type OutboundJobData } from '../../src/jobs/types.js';
import { createLogger } from '../../src/log.js';
import { batchJobId, redisBatches } from '../../src/notify/batch.js';
import { redisCaps } from '../../src/notify/caps.js';
import { processOutbound, type OutboundDeps } from '../../src/notify/outbound.js';
import { uploadNoticeQueuer, type UploadNotice } from '../../src/notify/upload-notice.js';
import { createRedis } from '../../src/redis.js';
import { openStore } from '../../src/store/open.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';

/**
 * An upload that joins a notice's window just as its job is sending (two workers' clocks differ a
 * little) must get a notice too. A retry of the job would find its sent marker and drop it, so the
 * job adds a follow-up for the late files instead. Real Redis and a real queue; the clock is the
 * test's, so "just as" is exact.
 */
const CASE = '612345678';
let config: Config;
let cleanup: () => Promise<void>;
let redis: Redis;
let store: ObjectStore;
let outbound: Queue<OutboundJobData>;
let clock = 1_000_000;
const now = () => clock;

beforeAll(async () => {
  ({ config, cleanup } = testConfig());
  redis = createRedis(config, 'worker');
  store = await openStore(config, createLogger('silent'));
  await caseRegistry(store, redis, config, createLogger('silent')).open(CASE, 'eng@example.com');
  outbound = createQueue(config, QueueName.outbound, redis) as Queue<OutboundJobData>;
});

afterAll(async () => {
  await outbound.close();
  redis.disconnect();
  await cleanup();
});

function upload(fileId: string, name: string): AdmittedFile {
  return {
    id: `cases/${CASE}/files/${fileId}`,
    fileId,
    caseNumber: CASE,
    originalName: name,
    storedName: name,
    size: 10,
    sha256: 'b'.repeat(64),
    format: '7z',
    verdict: 'accept',
    reason: 'ok',
    advice: '',
    channel: 'scp',
    tokenLabel: 'switch-3',
    receivedAt: new Date(clock).toISOString(),
    kept: true,
  };
}

describe('an upload joining a window as its notice is sent', () => {
  it('goes out in a follow-up notice, not lost to the sent marker', async () => {
    const batches = redisBatches(redis, config.redisPrefix, 60_000, now);
    const notice: UploadNotice = uploadNoticeQueuer({ store, batches, outbound, now });
    await notice(upload('FILEA', 'a.7z'));
    const [job] = await outbound.getJobs(['delayed']);
    const sent: string[] = [];
    const deps: OutboundDeps = {
      config,
      store,
      registry: caseRegistry(store, redis, config, createLogger('silent')),
      batches,
      caps: redisCaps(redis, config.redisPrefix),
      capConfig: config,
      outbound,
      now,
      logger: createLogger('silent'),
      deliverer: {
        async deliver(_name, raw) {
          sent.push(raw.toString('utf8'));
          if (sent.length === 1) {
            // one millisecond before the window ends, on another door's clock
            clock = job!.data.batch!.until - 1;
            await notice(upload('FILEB', 'b.7z'));
            clock = job!.data.batch!.until + 5;
          }
          return '250 ok';
        },
        close: () => undefined,
      },
    };
    await processOutbound(job!.id!, job!.data, deps);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain('a.7z');
    expect(sent[0]).not.toContain('b.7z');

    const followUp = { ...job!.data.batch!, until: clock };
    const next = await outbound.getJob(batchJobId(followUp));
    expect(next?.data).toMatchObject({ kind: 'upload-notice', batch: followUp });
    await processOutbound(next!.id!, next!.data, deps);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toContain(`casedrop case get ${CASE} b.7z -o b.7z`);
    expect(sent[1]).toContain('via scp, token "switch-3"');
    expect(await store.list('upload-notices/')).toEqual([]);
  });
});
