import type { Redis } from 'ioredis';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { openArchive } from '../store/open.js';
import type { EncryptedStore } from '../store/store.js';
import { retentionDeps, startRetentionWorker } from './job.js';

/** For `serve --role worker`: the daily retention job, run by whichever worker takes it. */
export async function startRetention(args: {
  config: Config;
  logger: Logger;
  live: EncryptedStore;
  registry: CaseRegistry;
  redis: Redis;
}): Promise<{ close(): Promise<void> }> {
  const log = args.logger.child({ component: 'retention' });
  const archive = await openArchive(args.config, log);
  const deps = retentionDeps({
    config: args.config,
    live: args.live,
    archive,
    registry: args.registry,
    redis: args.redis,
    logger: log,
    operator: 'casedrop retention job',
  });
  return startRetentionWorker(deps, args.config, args.redis, log);
}
