import { AuditLog } from '../audit/log.js';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RedisSshKeyStore } from '../cases/ssh-keys.js';
import { RedisTokenStore } from '../cases/tokens.js';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import type { UploadSink } from '../drive/ports.js';
import { deviceUploadSink } from '../drive/segmented-sink.js';
import { keyAuth } from '../drive/key-auth.js';
import { tokenAuth } from '../drive/token-auth.js';
import type { Logger } from '../log.js';
import { redisNameRegistry } from '../pipeline/stored-names.js';
import type { EncryptedStore } from '../store/store.js';
import type { Queue } from 'bullmq';
import { createQueue } from '../jobs/queues.js';
import { QueueName, type WebhookJobData } from '../jobs/types.js';
import { loadSigningKeys } from '../receipts/keys.js';
import { signReceipt } from '../receipts/sign.js';
import { uploadEventSink } from '../upload/events.js';
import { startUploadNotices } from '../notify/upload-notice.js';
import { redisLoginLimiter } from '../upload/login-limit.js';
import { redisPartials } from '../upload/partials.js';
import { sweepExpiredUploads } from '../upload/resume.js';
import { redisCaseUsage } from '../upload/usage.js';
import { intakeVerifier } from '../pipeline/intake-options.js';
import { loadHostKeys } from './host-keys.js';
import { startSshDrive, type SshDrive } from './server.js';

export interface DriveRoleDeps {
  /** false when the upload role runs in the same process and already sweeps expired uploads */
  sweepExpired?: boolean;
  config: Config;
  logger: Logger;
  store: EncryptedStore;
  registry: CaseRegistry;
  redis: Redis;
}

/** Tokens (and SSH keys), limits and the intake path every device door (SFTP/SCP, FTPS) shares. */
export async function deviceDoorDeps({ config, logger, store, registry, redis }: Omit<DriveRoleDeps, 'sweepExpired'>) {
  const tokens = new RedisTokenStore(redis, config.redisPrefix, registry, config.caseDigits);
  const limiter = redisLoginLimiter(
    redis,
    config.redisPrefix,
    { perAddress: config.uploadLoginFailuresPerAddress, perCase: config.uploadLoginFailuresPerCase, windowSeconds: config.uploadLoginWindowSeconds },
    logger,
  );
  const usage = redisCaseUsage(redis, config.redisPrefix);
  const notices = startUploadNotices(config, redis, store);
  const intake = {
    store,
    names: redisNameRegistry(redis, config.redisPrefix),
    verify: await intakeVerifier(config),
    logger,
    requireEncrypted: config.uploadRequireEncrypted,
    audit: new AuditLog(store, redis, config.redisPrefix),
    notice: notices.notice,
  };
  const partials = redisPartials(redis, config.redisPrefix);
  const signing = await loadSigningKeys(store);
  const webhooks = createQueue(config, QueueName.webhook, redis) as Queue<WebhookJobData>;
  const events = uploadEventSink(config, store, webhooks);
  const sink: UploadSink = deviceUploadSink({
    config,
    redis,
    intake,
    partials,
    tokens,
    usage,
    logger,
    events,
    sign: (receipt) => signReceipt(receipt, signing),
  });
  // unfinished uploads expire as HTTPS ones do; the upload role sweeps them when it runs here too
  const sweep = () =>
    void sweepExpiredUploads({ intake, partials }, logger).catch((err: unknown) =>
      logger.warn({ err: (err as Error).message }, 'sweep of expired uploads failed'),
    );
  const keys = new RedisSshKeyStore(redis, config.redisPrefix, registry, config.caseDigits);
  const auth = { ...tokenAuth(tokens, limiter, config.caseDigits), ...keyAuth(keys, limiter, config.caseDigits) };
  return { auth, sink, sweep, close: async () => (await webhooks.close(), await notices.close()) };
}

export const sshBanner = (retention: string) =>
  'casedrop upload drive: files sent here go into the support case named by the user name.\r\n' +
  'Log in with the case number as user and an upload token as password (or an SSH key added to the case).\r\n' +
  'Upload only: put files into /; nothing here can be read, listed (except your own uploads) or deleted.\r\n' +
  `${retention}\r\n`;

/** The SFTP/SCP door, wired to the upload tokens, their login limits and the one intake path. */
export async function startSftp(deps: DriveRoleDeps): Promise<SshDrive> {
  const { config } = deps;
  const logger = deps.logger.child({ stage: 'sftp' });
  const { auth, sink, sweep, close } = await deviceDoorDeps({ ...deps, logger });
  const hostKeys = await loadHostKeys(config.sftpHostKeyDir ?? join(config.dataDir, 'ssh'), logger);
  const timer = deps.sweepExpired === false ? undefined : setInterval(sweep, SWEEP_MS);
  timer?.unref();
  const drive = await startSshDrive({
    host: config.sftpHost,
    port: config.sftpPort,
    hostKeys,
    banner: sshBanner(config.driveRetention),
    legacyAlgorithms: config.sftpLegacyAlgorithms,
    maxConnections: config.sftpMaxConnections,
    auth,
    sink,
    logger,
  });
  return {
    ...drive,
    async stop(grace) {
      clearInterval(timer);
      await drive.stop(grace);
      await close();
    },
  };
}

const SWEEP_MS = 5 * 60_000;
