import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { processIntake } from '../../src/pipeline/intake.js';
import type { RemovalStep } from '../../src/purge/remove.js';
import { createRedis } from '../../src/redis.js';
import { openStore } from '../../src/store/open.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, realVerify, registryFor, sample, silent, spool } from '../pipeline/helpers.js';
import { cli, cliEnv, compile, runChild } from './support.js';

/** The purge process really dies (exit 137) after each step; running the same command again finishes it. */
let build = '';
beforeAll(() => {
  build = compile();
}, 180_000);

const steps: RemovalStep[] = ['after-record', 'after-key', 'after-object', 'after-derived', 'after-note', 'after-audit'];

describe.each(steps)('purge killed %s', (step) => {
  it('finishes when run again: file, key and reservation gone, one note, one audit entry, the other file intact', async () => {
    const { config, cleanup } = testConfig();
    const redis = createRedis(config, 'worker');
    try {
      const store = await openStore(config, silent);
      const registry = registryFor(config, redis, store);
      await registry.open(CASE, 'engineer@example.com');
      const audit = new AuditLog(store, redis, config.redisPrefix);
      const deps = {
        config,
        store,
        registry,
        verify: realVerify,
        names: namesFor(config, redis),
        notify: { add: async () => undefined },
        logger: silent,
        audit,
      };
      const gone = (await processIntake(await spool(store, sample('rfc2231-name.eml')), deps))!.stored[0]!;
      const kept = (await processIntake(await spool(store, sample('simple-7z.eml')), deps))!.stored[0]!;
      const args = ['case', 'purge', CASE, gone.storedName, '--requested-by', 'jane@example.com', '--reason', 'mistake'];

      expect(await runChild(build, { ...cliEnv(config), CASEDROP_TEST_CRASH_AT: step }, ...args)).toBe(137);
      const again = await cli(cliEnv(config), ...args);
      expect(again).toEqual({ code: 0, lines: [`finished\t${gone.storedName}\t${gone.size}\t${gone.sha256}`] });

      expect(await store.exists(gone.id)).toBe(false);
      expect(await store.shred!.has(gone.id)).toBe(false);
      expect(await store.list(`purges/${CASE}/`)).toEqual([]);
      expect(await redis.hget(`${config.redisPrefix}:case-names:${CASE}:by-name`, gone.storedName)).toBeNull();
      expect((await store.list(`cases/${CASE}/notes/`)).filter((id) => id.includes('/removed-'))).toHaveLength(1);
      const entries = await audit.read(CASE);
      expect(entries.filter((e) => e.type === 'purged').map((e) => e.file?.sha256)).toEqual([gone.sha256]);
      expect((await audit.verify(CASE)).problems).toEqual([]);
      expect((await store.head(kept.id)).sha256).toBe(kept.sha256);
      // and a third run has nothing left to do: the name is now unknown
      expect((await cli(cliEnv(config), ...args)).code).toBe(1);
    } finally {
      redis.disconnect();
      await cleanup();
    }
  }, 60_000);
});
