import { afterAll, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { caseRegistry } from '../../src/cases/registry.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName } from '../../src/jobs/types.js';
import { processIntake } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import { RETENTION_SCHEDULER_ID, retentionDeps, startRetentionWorker } from '../../src/retention/job.js';
import { openArchive, openStore } from '../../src/store/open.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, realVerify, sample, silent, spool } from '../pipeline/helpers.js';

const env = testConfig();
afterAll(() => env.cleanup());

it('workers schedule one daily retention job, and a run of it archives what is due', async () => {
  const { config } = env;
  const redis = createRedis(config, 'worker');
  const live = await openStore(config, silent);
  const registry = caseRegistry(live, redis, config, silent);
  await registry.open(CASE, 'engineer@example.com');
  const deps = {
    config,
    store: live,
    registry,
    verify: realVerify,
    names: namesFor(config, redis),
    notify: { add: async () => undefined },
    logger: silent,
    audit: new AuditLog(live, redis, config.redisPrefix),
  };
  const file = (await processIntake(await spool(live, sample('simple-7z.eml')), deps))!.stored[0]!;
  await caseRegistry(live, redis, config, silent, () => new Date(Date.now() - 19 * 31 * 86_400_000)).close(CASE);

  const archive = await openArchive(config, silent);
  const rdeps = retentionDeps({ config, live, archive, registry, redis, logger: silent, operator: 'casedrop retention job' });
  const first = await startRetentionWorker(rdeps, config, redis, silent);
  const second = await startRetentionWorker(rdeps, config, redis, silent); // a second worker process
  const queue = createQueue(config, QueueName.retention, redis);
  try {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: RETENTION_SCHEDULER_ID, every: 86_400_000 });
    // the scheduler's first run starts at once; wait for it
    await vi.waitFor(async () => expect(await archive.exists(file.id)).toBe(true), { timeout: 20_000, interval: 100 });
    await vi.waitFor(async () => expect(await live.exists(file.id)).toBe(false), { timeout: 20_000, interval: 100 });
    const archived = (await new AuditLog(live, redis, config.redisPrefix).read(CASE)).filter((e) => e.type === 'archived');
    expect(archived).toEqual([expect.objectContaining({ actor: 'casedrop retention job', file: expect.objectContaining({ sha256: file.sha256 }) })]);
  } finally {
    await first.close();
    await second.close();
    await queue.close();
    redis.disconnect();
  }
});
