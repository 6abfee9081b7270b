import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { main } from '../../src/cli/main.js';
import { createContext } from '../../src/cli/context.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName } from '../../src/jobs/types.js';
import { newId } from '../../src/ids.js';
import { recover, type RecoveryDeps } from '../../src/pipeline/recovery.js';
import { createRedis } from '../../src/redis.js';
import type { ObjectStore } from '../../src/store/types.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { ErrorCode } from '../../src/errors.js';
import { testConfig } from '../helpers/env.js';
import { intakeQueue, notifyQueue, openTestStore, sample, silent, spool } from './helpers.js';

let env: ReturnType<typeof testConfig>;
let redis: Redis;
let store: ObjectStore;
let intake: Queue;
let notify: Queue;
let outbound: Queue;

beforeEach(async () => {
  env = testConfig();
  redis = createRedis(env.config, 'worker');
  store = await openTestStore(env.config);
  intake = intakeQueue(env.config, redis);
  notify = notifyQueue(env.config, redis);
  outbound = createQueue(env.config, QueueName.outbound, redis);
});

afterEach(async () => {
  await Promise.all([intake.close(), notify.close(), outbound.close()]);
  redis.disconnect();
  await env.cleanup();
});

const HOUR = 3_600_000;
const later = () => Date.now() + HOUR;
const deps = (over: Partial<RecoveryDeps> = {}): RecoveryDeps => ({
  store,
  redis,
  prefix: env.config.redisPrefix,
  intake,
  notify,
  outbound,
  logger: silent,
  minAgeMs: HOUR / 2,
  now: later,
  ...over,
});
const outcome = (spoolId: string) => store.put('outcomes', Readable.from([Buffer.from('{}')]), {}, { name: spoolId });

describe('recovery: the spool is the truth, Redis an index', () => {
  it('queues again (never deletes) an old spool object Redis has no job for, under its spool id', async () => {
    const forgotten = await spool(store, sample('simple-7z.eml'));
    const queued = await spool(store, sample('simple-7z.eml'), {}, intake);
    const c = await recover(deps());
    expect(c.spool).toMatchObject({ seen: 2, known: 1, requeued: 1 });
    expect((await intake.getJob(forgotten))?.data).toEqual({ spoolId: forgotten });
    expect(await store.list('spool/')).toEqual([`spool/${forgotten}`, `spool/${queued}`].sort());
    // a second scan finds both known and adds nothing
    expect((await recover(deps())).spool).toMatchObject({ known: 2, requeued: 0 });
    expect(await intake.getJobCounts('waiting')).toEqual({ waiting: 2 });
  });

  it('gives mail to postmaster its forwarding job back, not an intake job (it has no case)', async () => {
    const spoolId = newId();
    const meta = { spoolId, postmaster: true, mailFrom: 'someone@example.org', receivedAt: new Date().toISOString() };
    await store.put('spool', Readable.from([sample('simple-7z.eml')]), meta, { name: spoolId });
    expect((await recover(deps())).spool).toMatchObject({ seen: 1, requeued: 1 });
    expect((await outbound.getJob(spoolId))?.data).toEqual({ spoolId, kind: 'postmaster' });
    expect(await intake.getJob(spoolId)).toBeUndefined();
    // its forwarding job is Redis knowing it: a second scan adds nothing
    expect((await recover(deps())).spool).toMatchObject({ known: 1, requeued: 0 });
  });

  it('leaves a young spool object alone: its door may still be adding the job', async () => {
    const young = await spool(store, sample('simple-7z.eml'));
    expect((await recover(deps({ now: Date.now, minAgeMs: HOUR }))).spool).toMatchObject({ seen: 1, young: 1, requeued: 0 });
    expect(await intake.getJob(young)).toBeUndefined();
  });

  it('removes a spool object its door gave up on (answered 4xx, marker written, delete failed)', async () => {
    const abandoned = await spool(store, sample('simple-7z.eml'));
    await store.put('abandoned', Readable.from([]), { spoolId: abandoned }, { name: abandoned });
    expect((await recover(deps())).spool).toMatchObject({ abandoned: 1, requeued: 0 });
    expect(await store.exists(`spool/${abandoned}`)).toBe(false);
  });

  it('gives a finished message back to the intake without reading it: a power loss undid its spool delete but not its key destruction', async () => {
    // the intake deletes the spool object of a recorded outcome with mayReappear (no directory fsync)
    const back = await spool(store, sample('simple-7z.eml'));
    await outcome(back);
    await (store as EncryptedStore).shred!.destroy(`spool/${back}`);
    await expect(store.head(`spool/${back}`)).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
    expect((await recover(deps())).spool).toMatchObject({ seen: 1, requeued: 1 });
    expect((await intake.getJob(back))?.data).toEqual({ spoolId: back });
  });

  it('gives an outcome whose replies were never all sent its notify job back; a settled one costs a stat', async () => {
    const unsent = await spool(store, sample('simple-7z.eml'));
    const settled = await spool(store, sample('simple-7z.eml'));
    await Promise.all([outcome(unsent), outcome(settled)]);
    await Promise.all([unsent, settled].map((s) => store.delete(`spool/${s}`)));
    await store.put('replies', Readable.from([]), {}, { name: settled });
    const c = await recover(deps());
    expect(c.outcomes).toMatchObject({ seen: 2, settled: 1, requeued: 1 });
    expect((await notify.getJob(unsent))?.data).toEqual({ outcomeId: `outcomes/${unsent}` });
    expect(await notify.getJob(settled)).toBeUndefined();
  });

  it('leaves an unsettled outcome alone while Redis holds an outbound job of its replies (the intake job added it, no notify job)', async () => {
    const [sending, noticeOnly, lost] = await Promise.all([1, 2, 3].map(() => spool(store, sample('simple-7z.eml'))));
    await Promise.all([sending!, noticeOnly!, lost!].map((s) => outcome(s)));
    await Promise.all([sending!, noticeOnly!, lost!].map((s) => store.delete(`spool/${s}`)));
    await outbound.add('receipt', { spoolId: sending!, kind: 'receipt' }, { jobId: `${sending}-sender` });
    await outbound.add('engineer', { spoolId: noticeOnly!, kind: 'engineer' }, { jobId: `${noticeOnly}-engineer` });
    const c = await recover(deps());
    expect(c.outcomes).toMatchObject({ seen: 3, settled: 0, known: 2, requeued: 1 });
    expect((await notify.getJob(lost!))?.data).toEqual({ outcomeId: `outcomes/${lost}` });
    expect(await notify.getJob(sending!)).toBeUndefined();
    expect(await notify.getJob(noticeOnly!)).toBeUndefined();
  });

  it('runs on demand as casedrop spool recover', async () => {
    const forgotten = await spool(store, sample('simple-7z.eml'));
    const out: string[] = [];
    const cliEnv = {
      NODE_ENV: 'test',
      CASEDROP_REDIS_PREFIX: env.config.redisPrefix,
      CASEDROP_DATA_DIR: env.config.dataDir,
      CASEDROP_LOG_LEVEL: 'silent',
      CASEDROP_MASTER_KEYS: env.config.masterKeys ?? '',
    };
    expect(
      await main(
        ['node', 'casedrop', 'spool', 'recover', '--min-age', '0'],
        createContext(cliEnv, (l) => out.push(l)),
      ),
    ).toBe(0);
    expect(out[0]).toMatch(/^spool: 1 seen, 1 re-queued, 0 abandoned by their door removed; outcomes: 0 seen, 0 re-queued for replies/);
    expect(await intake.getJob(forgotten)).toBeDefined();
  });
});
