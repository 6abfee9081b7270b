import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { caseRegistry } from '../../src/cases/registry.js';
import { processIntake } from '../../src/pipeline/intake.js';
import type { RemovalStep } from '../../src/purge/remove.js';
import { createRedis } from '../../src/redis.js';
import type { RetentionStep } from '../../src/retention/run.js';
import { openArchive, openStore } from '../../src/store/open.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, realVerify, sample, silent, spool } from '../pipeline/helpers.js';
import { cli, cliEnv, compile, runChild } from '../purge/support.js';

/** `casedrop retention run` really dies (exit 137) after each step; running it again finishes the work, once. */
let build = '';
beforeAll(() => {
  build = compile();
}, 180_000);

async function setUp() {
  const env = testConfig();
  const { config } = env;
  const redis = createRedis(config, 'worker');
  const live = await openStore(config, silent);
  const audit = new AuditLog(live, redis, config.redisPrefix);
  await caseRegistry(live, redis, config, silent).open(CASE, 'engineer@example.com');
  const deps = {
    config,
    store: live,
    registry: caseRegistry(live, redis, config, silent),
    verify: realVerify,
    names: namesFor(config, redis),
    notify: { add: async () => undefined },
    logger: silent,
    audit,
  };
  const files = [
    (await processIntake(await spool(live, sample('simple-7z.eml')), deps))!.stored[0]!,
    (await processIntake(await spool(live, sample('rfc2231-name.eml')), deps))!.stored[0]!,
  ];
  const longAgo = () => new Date(Date.now() - 20 * 31 * 86_400_000);
  await caseRegistry(live, redis, config, silent, longAgo).close(CASE);
  return { ...env, redis, live, audit, files };
}

describe.each(['after-copy', 'after-archive-audit', 'after-live-removed'] as RetentionStep[])('archive run killed %s', (step) => {
  it('finishes when run again: every file in the archive once, none live, one audit entry each', async () => {
    const s = await setUp();
    try {
      expect(await runChild(build, { ...cliEnv(s.config), CASEDROP_TEST_CRASH_AT: step }, 'retention', 'run')).toBe(137);
      expect((await cli(cliEnv(s.config), 'retention', 'run')).code).toBe(0);
      const archive = await openArchive(s.config, silent);
      for (const f of s.files) {
        expect(await s.live.exists(f.id)).toBe(false);
        expect(await s.live.shred!.has(f.id)).toBe(false);
        expect((await archive.head(f.id)).sha256).toBe(f.sha256);
      }
      expect(await s.live.list(`cases/${CASE}/`)).toEqual([]);
      expect((await archive.list(`cases/${CASE}/notes/`)).length).toBe(2);
      const archived = (await s.audit.read(CASE)).filter((e) => e.type === 'archived');
      expect(archived.map((e) => e.file?.id).sort()).toEqual(s.files.map((f) => f.id).sort());
      expect((await s.audit.verify(CASE)).problems).toEqual([]);
      expect((await cli(cliEnv(s.config), 'retention', 'run', '--dry-run')).lines).toEqual(['0 action(s) would be taken (dry run)']);
    } finally {
      s.redis.disconnect();
      await s.cleanup();
    }
  }, 60_000);
});

describe.each(['after-record', 'after-key', 'after-derived', 'after-audit'] as RemovalStep[])('delete run killed %s', (step) => {
  it('finishes when run again: every file shredded, one note and one audit entry each', async () => {
    const s = await setUp();
    const vars = cliEnv(s.config, { CASEDROP_RETENTION_ACTION: 'delete' });
    try {
      expect(await runChild(build, { ...vars, CASEDROP_TEST_CRASH_AT: step }, 'retention', 'run')).toBe(137);
      expect((await cli(vars, 'retention', 'run')).code).toBe(0);
      for (const f of s.files) {
        expect(await s.live.exists(f.id)).toBe(false);
        expect(await s.live.shred!.has(f.id)).toBe(false);
      }
      expect(await s.live.list(`purges/${CASE}/`)).toEqual([]);
      const notes = await s.live.list(`cases/${CASE}/notes/`);
      expect(notes.filter((id) => id.includes('/removed-'))).toHaveLength(2);
      expect(notes).toHaveLength(2); // the message texts are shredded too
      const deleted = (await s.audit.read(CASE)).filter((e) => e.type === 'retention-deleted');
      expect(deleted.map((e) => e.file?.id).sort()).toEqual(s.files.map((f) => f.id).sort());
      expect((await s.audit.verify(CASE)).problems).toEqual([]);
    } finally {
      s.redis.disconnect();
      await s.cleanup();
    }
  }, 60_000);
});
