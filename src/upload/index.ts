import type { Redis } from 'ioredis';
import type { CaseRegistry } from '../cases/types.js';
import { RedisTokenStore } from '../cases/tokens.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { redisNameRegistry } from '../pipeline/stored-names.js';
import type { EncryptedStore } from '../store/store.js';
import { intakeVerifier } from '../verify/intake-options.js';
import { redisLoginLimiter } from './login-limit.js';
import { startUploadListener, type UploadListener } from './server.js';
import { redisCaseUsage } from './usage.js';

export interface UploadRoleDeps {
  config: Config;
  logger: Logger;
  store: EncryptedStore;
  registry: CaseRegistry;
  redis: Redis;
}

/** The upload door: its listener with tokens, brute-force limits, caps and the shared intake wired in. */
export async function startUpload({ config, logger, store, registry, redis }: UploadRoleDeps): Promise<UploadListener> {
  const log = logger.child({ stage: 'upload' });
  const tokens = new RedisTokenStore(redis, config.redisPrefix, registry, config.caseDigits);
  const usage = redisCaseUsage(redis, config.redisPrefix);
  const limiter = redisLoginLimiter(redis, config.redisPrefix, { perAddress: config.uploadLoginFailuresPerAddress, perCase: config.uploadLoginFailuresPerCase, windowSeconds: config.uploadLoginWindowSeconds }, log);
  const intake = { store, names: redisNameRegistry(redis, config.redisPrefix), verify: await intakeVerifier(config), logger: log, requireEncrypted: config.uploadRequireEncrypted };
  return startUploadListener({
    config,
    logger: log,
    gate: { config, tokens, limiter, usage },
    put: { intake, tokens, usage, logger: log },
  });
}
