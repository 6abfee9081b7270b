import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { processIntake, type IntakeDeps } from '../../src/pipeline/intake.js';
import { sanitizeFilename } from '../../src/pipeline/filenames.js';
import { createRedis } from '../../src/redis.js';
import { testConfig } from '../helpers/env.js';
import { CASE, namesFor, realVerify, openTestStore, registryFor, silent, spool } from './helpers.js';

/**
 * Every hostile message of the shared corpus that could pass the door must reach an outcome in the
 * job (never a crash, a hang or a dead letter), and no stored name may keep a separator or control
 * character.
 */
const DIR = join(import.meta.dirname, '../../fixtures/hostile');
interface Item {
  kind: string;
  file: string;
  expect: { worker: string };
}
const items = (JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { items: Item[] }).items.filter(
  (i) => i.kind === 'message' && i.expect.worker !== 'none',
);
const env = testConfig();
let redis: Redis;
let deps: IntakeDeps;

beforeAll(async () => {
  redis = createRedis(env.config, 'worker');
  const store = await openTestStore(env.config);
  const registry = registryFor(env.config, redis, store);
  await registry.open(CASE, 'engineer@example.com');
  deps = {
    config: env.config,
    store,
    registry,
    verify: realVerify,
    names: namesFor(env.config, redis),
    notify: { add: async () => undefined },
    logger: silent,
  };
});
afterAll(async () => {
  redis.disconnect();
  await env.cleanup();
});

describe('hostile messages reach an outcome', () => {
  it.each(items.map((i) => [i.file, i] as const))(
    '%s',
    async (_file, item) => {
      const raw = readFileSync(join(DIR, item.file));
      const spoolId = await spool(deps.store, item.file.endsWith('.gz') ? gunzipSync(raw) : raw);
      const outcome = await processIntake(spoolId, deps);
      expect(['stored', 'partial', 'refused', 'no-attachment']).toContain(outcome?.kind);
      for (const f of outcome?.stored ?? []) {
        expect(f.storedName).toBe(sanitizeFilename(f.storedName));
        // eslint-disable-next-line no-control-regex -- asserts that no control character is left
        expect(f.storedName).not.toMatch(/[/\\\u0000-\u001f]/);
      }
    },
    30_000,
  );
});
