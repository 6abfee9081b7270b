import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { caseRegistry, type DurableCaseRegistry } from '../../src/cases/registry.js';
import { RedisTokenStore } from '../../src/cases/tokens.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createRedis, ready } from '../../src/redis.js';
import { openStore } from '../../src/store/open.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { startUpload } from '../../src/upload/index.js';
import type { UploadListener } from '../../src/upload/server.js';
import { testConfig } from '../helpers/env.js';

export const run = promisify(execFile);
export const CASE = '612345678';

export interface UploadEnv {
  config: Config;
  redis: Redis;
  store: EncryptedStore;
  registry: DurableCaseRegistry;
  tokens: RedisTokenStore;
  listener: UploadListener;
  base: string;
  logLines: string[];
  close(): Promise<void>;
}

/** The upload door in-process on a free loopback port, with its own data dir and Redis prefix. */
export async function startUploadEnv(overrides: Record<string, string> = {}): Promise<UploadEnv> {
  const { config, cleanup } = testConfig({ CASEDROP_UPLOAD_PORT: '0', ...overrides });
  const logLines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => void logLines.push(l) } as unknown as NodeJS.WritableStream);
  const redis = createRedis(config, 'producer');
  await ready(redis);
  const store = await openStore(config, logger);
  const registry = caseRegistry(store, redis, config, logger);
  const tokens = new RedisTokenStore(redis, config.redisPrefix, registry, config.caseDigits);
  const listener = await startUpload({ config, logger, store, registry, redis });
  return {
    config,
    redis,
    store,
    registry,
    tokens,
    listener,
    logLines,
    base: `http://127.0.0.1:${listener.port}`,
    close: async () => {
      await listener.stop(1000);
      redis.disconnect();
      await cleanup();
    },
  };
}

export async function caseFiles(env: UploadEnv, caseNumber = CASE): Promise<string[]> {
  return env.store.list(`cases/${caseNumber}/files/`);
}

/** Temp blobs of writes in progress or aborted: a failed upload must leave none. */
export function tempBlobs(env: UploadEnv): string[] {
  return readdirSync(join(env.config.dataDir, 'objects', '.tmp'));
}
