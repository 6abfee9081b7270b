import { join } from 'node:path';
import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { outcomeId } from '../jobs/ids.js';
import { countJobs } from '../jobs/observe.js';
import { createQueue, STALLS_BEFORE_DEAD_LETTER } from '../jobs/queues.js';
import { QueueName, type NotifyJobData, type OutboundJobData, type WebhookJobData } from '../jobs/types.js';
import type { Logger } from '../log.js';
import { repliesSent } from '../metrics.js';
import { createRedis } from '../redis.js';
import type { ObjectStore } from '../store/types.js';
import { outboxDeliverer, smtpDeliverer, type Deliverer } from './deliver.js';
import { processNotify, type NotifyDeps } from './notify.js';
import { processOutbound, type OutboundDeps } from './outbound.js';
import type { PostmasterRoute } from './postmaster.js';
import { OutcomeCache, readOutcome } from './outcome.js';
import { RedisCaseContacts } from '../cases/contacts.js';
import { redisBatches } from './batch.js';
import { redisCaps } from './caps.js';
import { postWebhook, webhookPayload } from './webhook.js';
import { readUploadEvent } from '../upload/events.js';

export interface NotifyWorkersOptions {
  config: Config;
  logger: Logger;
  store: ObjectStore;
  registry: Pick<CaseRegistry, 'get'>;
  /** a worker-role connection (maxRetriesPerRequest: null); made from the config when absent */
  redis?: Redis;
  /** how long one webhook POST may take before it counts as failed (default 10 s) */
  webhookTimeoutMs?: number;
  /** shared with this process's intake worker, which puts each outcome it writes here */
  outcomes?: OutcomeCache;
}

export interface NotifyWorkers {
  notify: Worker<NotifyJobData>;
  /**
   * The notify step run inline, for this process's intake worker: decides the replies of the outcome
   * `outcomes/<name>` and adds their outbound (and webhook) jobs, without a notify job of its own
   */
  replies(name: string, logger?: Logger): Promise<void>;
  outbound: Worker<OutboundJobData>;
  webhook: Worker<WebhookJobData>;
  close(): Promise<void>;
}

/**
 * The notify stage: three BullMQ workers. `notify` decides and adds jobs; `outbound` sends one mail
 * each; `webhook` posts one webhook each, several at once so a slow endpoint never holds up another.
 * Retries and the dead-letter list are the queues' (see src/jobs/queues.ts).
 */
export function startNotifyWorkers(o: NotifyWorkersOptions): NotifyWorkers {
  const { config } = o;
  const ownRedis = o.redis === undefined;
  const redis = o.redis ?? createRedis(config, 'worker');
  const log = o.logger.child({ component: 'notify' });
  const outboundQueue = createQueue(config, QueueName.outbound, redis) as Queue<OutboundJobData>;
  const webhookQueue = createQueue(config, QueueName.webhook, redis) as Queue<WebhookJobData>;
  const deliverer = makeDeliverer(config, log);
  warnAboutWebhooks(config, log);

  const outcomes = o.outcomes ?? new OutcomeCache();
  // a worker process passes one cached registry (src/jobs/case-cache.ts) to its intake and notify stages
  const registry = o.registry;
  const caps = redisCaps(redis, config.redisPrefix);
  const batches = redisBatches(redis, config.redisPrefix, config.digestIntervalSeconds * 1000);
  const notifyDeps: NotifyDeps = {
    config,
    store: o.store,
    registry,
    contacts: new RedisCaseContacts(redis, config.redisPrefix, config.caseDigits),
    caps,
    batches,
    outbound: outboundQueue,
    webhook: webhookQueue,
    logger: log,
    outcomes,
  };
  const postmaster = postmasterRoute(config, deliverer, log);
  const outboundDeps: OutboundDeps = {
    config,
    store: o.store,
    registry,
    deliverer,
    batches,
    caps,
    capConfig: config,
    outbound: outboundQueue,
    logger: log,
    postmaster,
    outcomes,
  };
  const webhookTimeoutMs = o.webhookTimeoutMs ?? 10_000;

  // most of a job is waiting (store reads, an fsync or a relay's reply): as many at once as the intake worker
  const notify = worker<NotifyJobData>(QueueName.notify, config, redis, log, config.workerConcurrency, (job) =>
    processNotify(job.data.outcomeId, { ...notifyDeps, logger: jobLogger(log, job) }),
  );
  const outbound = worker<OutboundJobData>(QueueName.outbound, config, redis, log, config.workerConcurrency, (job) =>
    processOutbound(job.id ?? '', job.data, { ...outboundDeps, logger: jobLogger(log, job) }),
  );
  const webhook = worker<WebhookJobData>(QueueName.webhook, config, redis, log, 16, (job) =>
    runWebhook(job, config, o.store, webhookTimeoutMs, jobLogger(log, job)),
  );

  return {
    notify,
    outbound,
    webhook,
    replies: (name, logger) => processNotify(outcomeId(name), { ...notifyDeps, logger: (logger ?? log).child({ component: 'notify' }) }),
    close: async () => {
      await Promise.all([notify.close(), outbound.close(), webhook.close()]);
      await Promise.all([outboundQueue.close(), webhookQueue.close()]);
      deliverer.close();
      if (postmaster.deliverer !== deliverer) postmaster.deliverer.close();
      if (ownRedis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function worker<T>(name: QueueName, config: Config, redis: Redis, log: Logger, concurrency: number, fn: (job: Job<T>) => Promise<void>): Worker<T> {
  const w = new Worker<T>(name, fn, {
    connection: redis,
    prefix: config.redisPrefix,
    concurrency,
    lockDuration: config.workerLockMs,
    stalledInterval: config.workerStalledCheckMs,
    maxStalledCount: STALLS_BEFORE_DEAD_LETTER,
  });
  countJobs(w, name);
  w.on('failed', (job, err) => log.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, `${name} job failed`));
  w.on('error', (err) => log.error({ queue: name, err: err.message }, `${name} worker error`));
  return w;
}

function jobLogger(log: Logger, job: Job): Logger {
  return log.child({ queue: job.queueName, jobId: job.id, attempt: job.attemptsMade + 1 });
}

function makeDeliverer(config: Config, log: Logger): Deliverer {
  if (config.relayUrl) return smtpDeliverer(config.relayUrl);
  return outboxDeliverer(join(config.dataDir, 'outbox'), join(config.dataDir, '.outbox-tmp'), log);
}

/** Postmaster mail: through the relay to CASEDROP_POSTMASTER_ADDRESS; without an address or relay, to the outbox. */
function postmasterRoute(config: Config, deliverer: Deliverer, log: Logger): PostmasterRoute {
  if (config.postmasterAddress === undefined) return { deliverer: outboxDeliverer(join(config.dataDir, 'outbox'), join(config.dataDir, '.outbox-tmp'), log) };
  return { deliverer, to: config.postmasterAddress };
}

function warnAboutWebhooks(config: Config, log: Logger): void {
  if (config.webhookUrls.length > 0 && config.webhookSecret === undefined) {
    log.error({ urls: config.webhookUrls.length }, 'CASEDROP_WEBHOOK_URLS is set without CASEDROP_WEBHOOK_SECRET: webhooks are not sent unsigned');
  }
}

async function runWebhook(job: Job<WebhookJobData>, config: Config, store: ObjectStore, timeoutMs: number, log: Logger): Promise<void> {
  const url = config.webhookUrls[job.data.urlIndex];
  const secret = config.webhookSecret;
  if (url === undefined || secret === undefined) throw new UnrecoverableError(`webhook ${job.data.urlIndex} is no longer configured`);
  const payload =
    'uploadEventId' in job.data ? await readUploadEvent(store, job.data.uploadEventId) : webhookPayload(await readOutcome(store, outcomeId(job.data.spoolId)));
  const status = await postWebhook(payload, { url, secret, deliveryId: job.id ?? '', timeoutMs });
  repliesSent.inc({ kind: 'webhook', result: 'sent' });
  // the index, not the URL: a URL may carry credentials
  log.info({ webhook: job.data.urlIndex, status }, 'webhook delivered');
}
