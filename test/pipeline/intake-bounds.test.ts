import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dsnText } from '../../src/notify/dsn.js';
import { engineerText } from '../../src/notify/engineer.js';
import { processIntake, type IntakeDeps } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import type { ObjectStore } from '../../src/store/types.js';
import { hostileMessages } from '../faults/support/hostile-mail.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, notifyQueue, openTestStore, realVerify, registryFor, silent, spool } from './helpers.js';

/** The message-level bounds end in their reason codes, and the replies stay short. */
let env: ReturnType<typeof testConfig>;
let redis: Redis;
let store: ObjectStore;
let notify: Queue;
let deps: IntakeDeps;
const attacks = new Map(hostileMessages({ caseNumber: CASE }).map((a) => [a.name, a.raw]));

beforeEach(async () => {
  env = testConfig();
  redis = createRedis(env.config, 'worker');
  store = await openTestStore(env.config);
  notify = notifyQueue(env.config, redis);
  const registry = registryFor(env.config, redis, store);
  await registry.open(CASE, 'engineer@example.com');
  deps = { config: env.config, store, registry, verify: realVerify, names: namesFor(env.config, redis), notify, logger: silent };
});

afterEach(async () => {
  await notify.close();
  redis.disconnect();
  await env.cleanup();
});

describe('bounds of one message', () => {
  it('judges the first maxFilesPerMessage files and refuses the rest together as too-many-files', async () => {
    deps = { ...deps, config: { ...deps.config, maxFilesPerMessage: 100 } };
    const outcome = (await processIntake(await spool(store, attacks.get('many files')!), deps))!;
    expect(outcome.kind).toBe('refused');
    expect(outcome.refused).toHaveLength(101);
    expect(outcome.refused.slice(0, 100).every((r) => r.reason === 'unencrypted')).toBe(true);
    expect(outcome.refused[100]).toMatchObject({ reason: 'too-many-files', count: 400 });
    expect(outcome.refused[100]!.advice).toContain('7z a');
  });

  it('lists at most replyMaxListed refusals in the DSN and the notice, and summarises the rest by reason', async () => {
    const outcome = (await processIntake(await spool(store, attacks.get('many files')!), deps))!;
    const compose = { hostname: 'localhost', intakeAddresses: ['attach@localhost'], replyFrom: undefined, replyMaxListed: 10 };
    const dsn = dsnText(outcome, compose);
    expect(dsn).toContain('500 of 500 files in your message were refused');
    expect(dsn.match(/^ {2}- /gm)).toHaveLength(10);
    expect(dsn).toContain('… and 490 more files refused (90 unencrypted, 400 too-many-files)');
    const notice = engineerText(outcome, undefined, 10);
    expect(notice).toContain('Refused (500), not kept:');
    expect(notice.match(/^ {2}- /gm)).toHaveLength(10);
  });

  it('refuses a message of more MIME parts than maxMimeParts as too-many-parts, storing nothing', async () => {
    const outcome = (await processIntake(await spool(store, attacks.get('forwarded messages of many tiny parts')!), deps))!;
    expect(outcome.kind).toBe('refused');
    expect(outcome.refused.map((r) => r.reason)).toEqual(['too-many-parts']);
    expect(await store.list(`cases/${CASE}/files/`)).toEqual([]);
  });
});
