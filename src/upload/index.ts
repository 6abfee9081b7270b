import { AuditLog } from '../audit/log.js';
import type { Redis } from 'ioredis';
import type { CaseRegistry } from '../cases/types.js';
import { RedisTokenStore } from '../cases/tokens.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { redisNameRegistry } from '../pipeline/stored-names.js';
import type { EncryptedStore } from '../store/store.js';
import { intakeVerifier } from '../pipeline/intake-options.js';
import { loadSigningKeys } from '../receipts/keys.js';
import { signReceipt } from '../receipts/sign.js';
import { redisLoginLimiter } from './login-limit.js';
import { redisPartials } from './partials.js';
import type { Receipt } from './put.js';
import { uploadEventSink } from './events.js';
import { startUploadNotices } from '../notify/upload-notice.js';
import { createQueue } from '../jobs/queues.js';
import { QueueName, type WebhookJobData } from '../jobs/types.js';
import type { Queue } from 'bullmq';
import { sweepExpiredUploads } from './resume.js';
import { tusRoute } from './tus.js';
import { startUploadListener, type UploadListener } from './server.js';
import { redisCaseUsage } from './usage.js';

/** Where casedrop publishes the public keys its receipts are signed with. */
export const JWKS_PATH = '/.well-known/jwks.json';
/** How often the upload door removes unfinished uploads past their expiry. */
const SWEEP_MS = 5 * 60_000;

export interface UploadRoleDeps {
  config: Config;
  logger: Logger;
  store: EncryptedStore;
  registry: CaseRegistry;
  redis: Redis;
}

/** The upload door: its listener with tokens, brute-force limits, caps, the shared intake and receipt signing wired in. */
export async function startUpload({ config, logger, store, registry, redis }: UploadRoleDeps): Promise<UploadListener> {
  const log = logger.child({ stage: 'upload' });
  const tokens = new RedisTokenStore(redis, config.redisPrefix, registry, config.caseDigits);
  const usage = redisCaseUsage(redis, config.redisPrefix);
  const limiter = redisLoginLimiter(
    redis,
    config.redisPrefix,
    { perAddress: config.uploadLoginFailuresPerAddress, perCase: config.uploadLoginFailuresPerCase, windowSeconds: config.uploadLoginWindowSeconds },
    log,
  );
  const signing = await loadSigningKeys(store);
  const jwks = JSON.stringify(signing.jwks);
  const notices = startUploadNotices(config, redis, store);
  const intake = {
    store,
    names: redisNameRegistry(redis, config.redisPrefix),
    verify: await intakeVerifier(config),
    logger: log,
    requireEncrypted: config.uploadRequireEncrypted,
    audit: new AuditLog(store, redis, config.redisPrefix),
    notice: notices.notice,
  };
  const webhooks = createQueue(config, QueueName.webhook, redis) as Queue<WebhookJobData>;
  const put = {
    intake,
    tokens,
    usage,
    events: uploadEventSink(config, store, webhooks),
    partials: redisPartials(redis, config.redisPrefix),
    partialTtlSeconds: config.uploadPartialTtlSeconds,
    logger: log,
    sign: (receipt: Receipt) => signReceipt(receipt, signing),
  };
  const sweep = () => void sweepExpiredUploads(put, log).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sweep of expired uploads failed'));
  sweep();
  const timer = setInterval(sweep, SWEEP_MS);
  timer.unref();
  const gate = { config, tokens, limiter, usage };
  const listener = await startUploadListener({
    config,
    logger: log,
    gate,
    put,
    extraRoutes: [
      (req, res) => {
        if (req.url !== JWKS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' });
        res.end(req.method === 'GET' ? jwks : undefined);
        return true;
      },
      tusRoute({ gate, put, logger: log }),
    ],
  });
  return {
    ...listener,
    stop: async (grace) => {
      clearInterval(timer);
      await listener.stop(grace);
      await webhooks.close();
      await notices.close();
    },
  };
}
