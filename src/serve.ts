import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { DurableCaseRegistry } from './cases/registry.js';
import type { Config } from './config/schema.js';
import { stopAll, type Stoppable } from './lifecycle.js';
import type { Logger } from './log.js';
import { createRedis, ready } from './redis.js';
import { DurableRecords } from './records/durable.js';
import { watchRecordIndex } from './records/watch.js';
import { openStore } from './store/open.js';

import type { Role } from './roles.js';

export interface Running {
  /** the SMTP port actually bound (for port 0 in tests), when the role has one */
  smtpPort?: number;
  httpPort?: number;
  /** the ops port (/healthz, /metrics) of an SMTP door or a worker run apart */
  opsPort?: number;
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
  const records = new DurableRecords(store, producer, config.redisPrefix, log.child({ component: 'records' }));
  const registry = new DurableCaseRegistry(records, config.caseDigits);
  // a Redis that lost data (restarted empty, lost its last second, failed over) gets the records
  // back at once, and the workers re-queue from the spool what its queues forgot
  const onRedisReset: (() => void)[] = [];
  await records.ensureIndex();
  const indexWatch = watchRecordIndex(records, log, () => onRedisReset.forEach((f) => f()));
  const doors: Stoppable[] = [{ name: 'record-index-watch', stop: () => indexWatch.stop() }];
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
      running.httpPort = await listen(buildHttp({ logger: log, redis: producer }), config.httpHost, config.httpPort, doors, 'http');
    }
    const opsPort = role === 'smtp' ? config.smtpOpsPort : role === 'worker' ? config.workerOpsPort : undefined;
    if (opsPort !== undefined) {
      const { buildOps } = await import('./http/ops.js');
      running.opsPort = await listen(buildOps({ logger: log, redis: producer }), config.httpHost, opsPort, doors, 'ops');
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
      const [{ intakeVerifier }, { startIntakeWorker }, { startNotifyWorkers }, { OutcomeCache }, { cachedCases }] = await Promise.all([
        import('./pipeline/intake-options.js'),
        import('./pipeline/worker.js'),
        import('./notify/index.js'),
        import('./notify/outcome.js'),
        import('./jobs/case-cache.js'),
      ]);
      const verify = await intakeVerifier(config);
      // the notify step reads the outcome its intake job wrote a moment ago in this process
      const outcomes = new OutcomeCache();
      // one case look-up answers this process's jobs for a few seconds (what that delays: src/jobs/case-cache.ts)
      const cases = cachedCases(registry);
      const notify = startNotifyWorkers({ config, logger: log, store, registry: cases, redis: workerRedis, outcomes });
      // each intake job decides its replies and adds their outbound jobs itself: no notify job per message
      const intake = startIntakeWorker({ config, logger: log, store, registry: cases, verify, redis: workerRedis, outcomes, replies: notify.replies });
      onRedisReset.push(() => intake.recoverNow());
      workers.push({ name: 'intake-worker', stop: () => intake.close() }, { name: 'notify-workers', stop: () => notify.close() });
      const { startRetention } = await import('./retention/start.js');
      const retention = await startRetention({ config, logger: log, live: store, registry, redis: workerRedis });
      workers.push({ name: 'retention-worker', stop: () => retention.close() });
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

/** Listens and registers the server to be stopped with the doors; the port actually bound. */
async function listen(app: FastifyInstance, host: string, port: number, doors: Stoppable[], name: string): Promise<number> {
  doors.push({ name, stop: () => app.close() });
  await app.listen({ host, port });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : port;
}

function connections(...clients: (Redis | undefined)[]): Stoppable {
  return {
    name: 'redis',
    stop: async () => {
      for (const client of clients) await client?.quit().catch(() => client.disconnect());
    },
  };
}
