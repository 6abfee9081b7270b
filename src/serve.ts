import type { Redis } from 'ioredis';
import { RedisCaseRegistry } from './cases/registry.js';
import type { Config } from './config/schema.js';
import { stopAll, type Stoppable } from './lifecycle.js';
import type { Logger } from './log.js';
import { createRedis, ready } from './redis.js';
import { openStore } from './store/open.js';

import type { Role } from './roles.js';

export { roles, type Role } from './roles.js';

export interface Running {
  /** the SMTP port actually bound (for port 0 in tests), when the role has one */
  smtpPort?: number;
  httpPort?: number;
  uploadPort?: number;
  sftpPort?: number;
  ftpsPort?: number;
  /** graceful stop: doors first, then workers, then connections */
  stop(): Promise<boolean>;
}

const has = (role: Role, part: Exclude<Role, 'all'>): boolean => role === 'all' || role === part;

// Each role loads only its own stages, so an SMTP door does not carry the parser, the verifiers and
// OpenPGP in memory, nor a worker the SMTP server and Fastify.

export async function serve(config: Config, role: Role, logger: Logger): Promise<Running> {
  const log = logger.child({ role });
  const store = await openStore(config, log);
  // producers fail fast when Redis is down (the door answers 451); workers wait for it
  const producer = createRedis(config, 'producer');
  const workerRedis = has(role, 'worker') ? createRedis(config, 'worker') : undefined;
  await ready(producer);
  const registry = new RedisCaseRegistry(producer, config.redisPrefix, config.caseDigits);
  const doors: Stoppable[] = [];
  const workers: Stoppable[] = [];
  const running: Omit<Running, 'stop'> = {};
  try {
    if (has(role, 'smtp')) {
      const { startSmtp } = await import('./smtp/index.js');
      const smtp = await startSmtp({ config, logger: log, store, registry, redis: producer });
      running.smtpPort = smtp.port;
      doors.push({ name: 'smtp', stop: () => smtp.stop() });
    }
    if (has(role, 'http')) {
      const { buildHttp } = await import('./http/server.js');
      const app = buildHttp({ logger: log, redis: producer });
      await app.listen({ host: config.httpHost, port: config.httpPort });
      const address = app.server.address();
      running.httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
      doors.push({ name: 'http', stop: () => app.close() });
    }
    if (has(role, 'upload')) {
      const { startUpload } = await import('./upload/index.js');
      const upload = await startUpload({ config, logger: log, store, registry, redis: producer });
      running.uploadPort = upload.port;
      doors.push({ name: 'upload', stop: (grace) => upload.stop(grace) });
    }
    if (has(role, 'sftp')) {
      const { startSftp } = await import('./sftp/index.js');
      const sftp = await startSftp({ config, logger: log, store, registry, redis: producer, sweepExpired: !has(role, 'upload') });
      running.sftpPort = sftp.port;
      doors.push({ name: 'sftp', stop: (grace) => sftp.stop(grace) });
    }
    if (role === 'ftps' || (role === 'all' && config.ftpsEnabled)) {
      const { startFtpsDoor } = await import('./ftps/index.js');
      const ftps = await startFtpsDoor({ config, logger: log, store, registry, redis: producer });
      running.ftpsPort = ftps.port;
      doors.push({ name: 'ftps', stop: () => ftps.stop() });
    }
    if (workerRedis) {
      const [{ intakeVerifier }, { startIntakeWorker }, { startNotifyWorkers }] = await Promise.all([
        import('./verify/intake-options.js'),
        import('./pipeline/worker.js'),
        import('./notify/index.js'),
      ]);
      const verify = await intakeVerifier(config);
      const intake = startIntakeWorker({ config, logger: log, store, registry, verify, redis: workerRedis });
      const notify = startNotifyWorkers({ config, logger: log, store, registry, redis: workerRedis });
      workers.push({ name: 'intake-worker', stop: () => intake.close() }, { name: 'notify-workers', stop: () => notify.close() });
    }
  } catch (err) {
    await stopAll([...doors, ...workers, connections(producer, workerRedis)], config.shutdownGraceMs, log);
    throw err;
  }
  log.info({ ...running }, 'casedrop started');
  return {
    ...running,
    stop: () => stopAll([...doors, ...workers, connections(producer, workerRedis)], config.shutdownGraceMs, log),
  };
}

function connections(...clients: (Redis | undefined)[]): Stoppable {
  return {
    name: 'redis',
    stop: async () => {
      for (const client of clients) await client?.quit().catch(() => client.disconnect());
    },
  };
}
