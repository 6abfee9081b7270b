import { cpSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { caseRegistry } from '../../src/cases/registry.js';
import { ErrorCode } from '../../src/errors.js';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName } from '../../src/jobs/types.js';
import { processIntake } from '../../src/pipeline/intake.js';
import { createRedis } from '../../src/redis.js';
import { Holds } from '../../src/retention/holds.js';
import { retentionDeps } from '../../src/retention/job.js';
import { formatAction, runRetention } from '../../src/retention/run.js';
import type { StagingItem, StagingSource } from '../../src/retention/staging.js';
import { openArchive, openStore } from '../../src/store/open.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { testConfig, testMasterKeys } from '../helpers/env.js';
import { namesFor, realVerify, sample, silent, spool } from '../pipeline/helpers.js';
import { cli, cliEnv } from '../purge/support.js';

const env = testConfig({ CASEDROP_ARCHIVE_MASTER_KEYS: testMasterKeys('arch1') });
const { config } = env;
const DAY = 86_400_000;
const NOW = new Date(Date.now() + 5 * DAY + 3_600_000); // the fake clock: objects written now are 5 days old then
const monthsAgo = (m: number) => () => new Date(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth() - m, NOW.getUTCDate(), 12));
const CASES = { closed17: '100000017', closed19: '100000019', held: '100000020', reopened: '100000021', reclosed: '100000022', deleted: '100000023' };
let redis: Redis;
let live: EncryptedStore;
let archive: EncryptedStore;
const stored = new Map<string, { id: string; storedName: string; sha256: string }>();
let staleSpool = '';
let joblessSpool = '';

/** The upload channels' hook, as they will plug in: partial uploads, one 5 days old, one 3 days old. */
const removedPartials: string[] = [];
const partials: StagingSource = {
  name: 'partial-upload',
  list: async () =>
    [
      { source: 'partial-upload', id: 'upload-old', createdAt: new Date(NOW.getTime() - 5 * DAY).toISOString(), caseNumber: CASES.closed17 },
      { source: 'partial-upload', id: 'upload-new', createdAt: new Date(NOW.getTime() - 3 * DAY).toISOString() },
    ].filter((i: StagingItem) => !removedPartials.includes(i.id)),
  remove: async (item) => void removedPartials.push(item.id),
};

const registryAt = (now: () => Date) => caseRegistry(live, redis, config, silent, now);
const depsFor = (overrides: Partial<typeof config> = {}) =>
  retentionDeps({
    config: { ...config, ...overrides },
    live,
    archive,
    registry: registryAt(() => NOW),
    redis,
    logger: silent,
    operator: 'op.carol',
    now: () => NOW,
    extraStaging: [partials],
  });

beforeAll(async () => {
  redis = createRedis(config, 'worker');
  live = await openStore(config, silent);
  archive = await openArchive(config, silent);
  const audit = new AuditLog(live, redis, config.redisPrefix);
  for (const n of Object.values(CASES)) {
    const registry = registryAt(() => new Date());
    await registry.open(n, 'engineer@example.com');
    const deps = {
      config,
      store: live,
      registry,
      verify: realVerify,
      names: namesFor(config, redis),
      notify: { add: async () => undefined },
      logger: silent,
      audit,
    };
    const outcome = (await processIntake(await spool(live, sample('simple-7z.eml'), { caseNumber: n }), deps))!;
    stored.set(n, outcome.stored[0]!);
  }
  await registryAt(monthsAgo(17)).close(CASES.closed17);
  await registryAt(monthsAgo(19)).close(CASES.closed19);
  await registryAt(monthsAgo(19)).close(CASES.held);
  await new Holds(redis, config.redisPrefix).set(CASES.held, { reason: 'litigation 2026-17', by: 'legal', since: new Date().toISOString() });
  await registryAt(monthsAgo(19)).close(CASES.reopened);
  await registryAt(monthsAgo(2)).reopen(CASES.reopened);
  await registryAt(monthsAgo(25)).close(CASES.reclosed);
  await registryAt(monthsAgo(3)).reopen(CASES.reclosed);
  await registryAt(monthsAgo(1)).close(CASES.reclosed);
  await registryAt(monthsAgo(19)).close(CASES.deleted);
  staleSpool = await spool(live, sample('simple-7z.eml'), { caseNumber: CASES.closed17 });
  await deadLetter(staleSpool); // a dead-lettered message nobody retried: staging
  joblessSpool = await spool(live, sample('simple-7z.eml'), { caseNumber: CASES.closed17 }); // no job at all: recovery's, never staging
  // a key whose object is gone (a process killed between the two deletes), 6 days old
  await live.shred!.obtain('spool/ghost');
  const sixDaysAgo = new Date(NOW.getTime() - 6 * DAY);
  utimesSync(live.shred!.pathOf('spool/ghost'), sixDaysAgo, sixDaysAgo);
});

/** The intake job of a spooled message fails for good, as a poison message's does. */
async function deadLetter(spoolId: string): Promise<void> {
  const queue = createQueue(config, QueueName.intake, redis);
  await queue.add('intake', { spoolId }, { jobId: spoolId, attempts: 1 });
  const worker = new Worker(
    QueueName.intake,
    async () => {
      throw new UnrecoverableError('poison (test)');
    },
    { connection: createRedis(config, 'worker'), prefix: config.redisPrefix },
  );
  await vi.waitFor(async () => expect(await (await queue.getJob(spoolId))?.getState()).toBe('failed'), { timeout: 20_000, interval: 100 });
  await worker.close();
  await queue.close();
}

afterAll(async () => {
  redis.disconnect();
  rmSync(`${config.dataDir}-copy`, { recursive: true, force: true });
  await env.cleanup();
});

describe('retention', () => {
  it('the dry run shows what and why; the real run does exactly that', async () => {
    // the `deleted` case is for the delete policy below: give it a hold for now
    await new Holds(redis, config.redisPrefix).set(CASES.deleted, { reason: 'later', by: 'test', since: NOW.toISOString() });
    const dry = (await runRetention(depsFor(), { dryRun: true })).map(formatAction);
    const b = stored.get(CASES.closed19)!;
    expect(dry).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^archive\\t${CASES.closed19}\\t${b.storedName.replace('.', '\\.')}\\tclosed \\d{4}-\\d\\d-\\d\\d, kept 18 months \\(until \\d{4}-\\d\\d-\\d\\d\\)$`,
          ),
        ),
        expect.stringMatching(new RegExp(`^archive\\t${CASES.closed19}\\t\\(note\\)\\t`)),
        expect.stringMatching(new RegExp(`^held\\t${CASES.held}\\t\\(whole case\\)\\t.*on legal hold .* by legal: litigation 2026-17$`)),
        `staging\t${CASES.closed17}\tspool\t5 days old, staging keeps 4 days`,
        `staging\t${CASES.closed17}\tpartial-upload\t5 days old, staging keeps 4 days`,
        'staging\t-\torphan-key\t6 days old, staging keeps 4 days',
      ]),
    );
    for (const untouched of [CASES.closed17, CASES.reopened, CASES.reclosed]) expect(dry.join('\n')).not.toContain(`\t${untouched}\t${b.storedName}`);
    expect(dry.filter((l) => l.startsWith('archive'))).toHaveLength(2);
    expect(dry).toHaveLength(7); // + the held `deleted` case
    // the dry run changed nothing
    expect(await live.exists(b.id)).toBe(true);
    expect(await live.exists(`spool/${staleSpool}`)).toBe(true);
    expect(removedPartials).toEqual([]);

    const real = (await runRetention(depsFor(), { dryRun: false })).map(formatAction);
    expect(real).toEqual(dry);
    expect(await live.exists(b.id)).toBe(false);
    expect(await live.shred!.has(b.id)).toBe(false);
    expect(await archive.exists(b.id)).toBe(true);
    expect(await live.exists(`spool/${staleSpool}`)).toBe(false);
    expect(await live.exists(`spool/${joblessSpool}`), 'a spooled message with no job is never staging').toBe(true);
    expect(removedPartials).toEqual(['upload-old']);
    expect(await live.shred!.has('spool/ghost')).toBe(false);
    for (const n of [CASES.closed17, CASES.held, CASES.reopened, CASES.reclosed]) expect(await live.exists(stored.get(n)!.id)).toBe(true);
    // run again: nothing left to do but report the hold
    expect((await runRetention(depsFor(), { dryRun: false })).map((a) => a.kind).sort()).toEqual(['held', 'held']);
  });

  it('archived files are listed and retrievable (the archive has its own master key), and the move is audited', async () => {
    const b = stored.get(CASES.closed19)!;
    const vars = cliEnv(config, { CASEDROP_ARCHIVE_MASTER_KEYS: config.archiveMasterKeys! });
    const files = await cli(vars, 'case', 'files', CASES.closed19);
    expect(files.lines).toEqual([expect.stringMatching(new RegExp(`^${b.storedName.replace('.', '\\.')}\\t\\d+\\t${b.sha256}\\t.*\\tarchived$`))]);
    const target = join(config.dataDir, 'got-archived');
    expect((await cli(vars, 'case', 'get', CASES.closed19, b.storedName, '-o', target)).code).toBe(0);
    expect(createHash('sha256').update(readFileSync(target)).digest('hex')).toBe(b.sha256);
    // without the archive's master key the archive does not open
    await expect(openArchive({ ...config, archiveMasterKeys: undefined }, silent).then((a) => a.get(b.id))).rejects.toMatchObject({
      code: ErrorCode.KeyUnknown,
    });
    const entries = await new AuditLog(live, redis, config.redisPrefix).read(CASES.closed19);
    expect(entries.filter((e) => e.type === 'archived')).toEqual([
      expect.objectContaining({ actor: 'op.carol', channel: 'retention', file: expect.objectContaining({ sha256: b.sha256 }) }),
    ]);
    expect(entries.filter((e) => e.type === 'downloaded')).toHaveLength(1);
    // the message text went to the archive too, and still prints
    expect(await live.list(`cases/${CASES.closed19}/notes/`)).toEqual([]);
    expect((await cli(vars, 'case', 'notes', CASES.closed19)).lines[0]).toMatch(/^--- \d{4}-.* from customer@example\.com/);
  });

  it('the delete policy shreds a due case like a purge: note, audit entry, and a copy of the data dir is useless', async () => {
    await new Holds(redis, config.redisPrefix).clear(CASES.deleted);
    const f = stored.get(CASES.deleted)!;
    cpSync(config.dataDir, `${config.dataDir}-copy`, { recursive: true });
    const deps = depsFor({ retentionAction: 'delete' });
    const dry = (await runRetention(deps, { dryRun: true })).map(formatAction);
    const real = (await runRetention(deps, { dryRun: false })).map(formatAction);
    expect(real).toEqual(dry);
    expect(real).toContain(
      `delete\t${CASES.deleted}\t${f.storedName}\t${real.find((l) => l.startsWith(`delete\t${CASES.deleted}\t${f.storedName}`))!.split('\t')[3]}`,
    );
    // the archived case is due under this policy too: its archived file goes as well
    expect(real.some((l) => l.startsWith(`delete\t${CASES.closed19}\t`))).toBe(true);
    expect(await live.exists(f.id)).toBe(false);
    const fromCopy = await openStore({ ...config, dataDir: `${config.dataDir}-copy`, keyStoreDir: `${config.dataDir}.keys` }, silent);
    await expect(fromCopy.get(f.id)).rejects.toMatchObject({ code: ErrorCode.KeyDestroyed });
    const notes = (await cli(cliEnv(config), 'case', 'notes', CASES.deleted)).lines.join('\n');
    expect(notes).toContain('File deleted by the retention policy.');
    expect(notes).toContain(`SHA-256: ${f.sha256}`);
    expect(notes).toContain('Requested by: retention policy');
    expect(notes).toContain('Executed by: op.carol');
    const entries = await new AuditLog(live, redis, config.redisPrefix).read(CASES.deleted);
    expect(entries.filter((e) => e.type === 'retention-deleted')).toEqual([
      expect.objectContaining({ actor: 'op.carol', file: expect.objectContaining({ sha256: f.sha256 }) }),
    ]);
    expect((await new AuditLog(live, redis, config.redisPrefix).verify(CASES.deleted)).problems).toEqual([]);
  });

  it('a legal hold stops a purge too, and is audited', async () => {
    const vars = cliEnv(config);
    const h = stored.get(CASES.held)!;
    const refused = await cli(vars, 'case', 'purge', CASES.held, h.storedName, '--requested-by', 'x@example.com', '--reason', 'r');
    expect(refused.code).toBe(1);
    expect(await live.exists(h.id)).toBe(true);
    expect((await cli(vars, 'case', 'hold', CASES.held, 'off', '--reason', 'case settled')).code).toBe(0);
    expect((await cli(vars, 'case', 'hold', CASES.held, 'maybe', '--reason', 'x')).code).toBe(2);
    const entries = await new AuditLog(live, redis, config.redisPrefix).read(CASES.held);
    expect(entries.at(-1)).toMatchObject({ type: 'hold-off', actor: 'op.bob', reason: 'case settled' });
  });
});
