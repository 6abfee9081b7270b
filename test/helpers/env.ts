import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

/** A fresh master key for a test run (never a fixed one: nothing may depend on it). */
export function testMasterKeys(id = 'k1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * A config for one test: its own data dir and its own Redis key prefix, so runs never see each
 * other's state. Call `cleanup()` in afterAll/afterEach.
 */
export function testConfig(overrides: Record<string, string> = {}): { config: Config; cleanup: () => Promise<void> } {
  const dataDir = mkdtempSync(join(tmpdir(), 'casedrop-test-'));
  const prefix = `cdtest-${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    CASEDROP_LOG_LEVEL: 'silent',
    CASEDROP_DATA_DIR: dataDir,
    CASEDROP_REDIS_PREFIX: prefix,
    CASEDROP_MASTER_KEYS: testMasterKeys(),
    CASEDROP_SMTP_PORT: '0',
    CASEDROP_HTTP_PORT: '0',
    CASEDROP_SMTP_OPS_PORT: '0',
    CASEDROP_WORKER_OPS_PORT: '0',
    CASEDROP_SFTP_PORT: '0',
    CASEDROP_UPLOAD_PORT: '0',
    ...overrides,
  });
  return {
    config,
    cleanup: async () => {
      await deletePrefix(config.redisUrl, prefix);
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(`${dataDir}.keys`, { recursive: true, force: true });
    },
  };
}

/** Removes every Redis key of a test run (BullMQ queues included: they share the prefix). */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
