import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SMTPServerOptions } from 'smtp-server';
import type { CaseRegistry } from '../cases/types.js';
import { uploadBaseUrl } from '../upload/url.js';
import type { Config } from '../config/schema.js';
import { createQueue } from '../jobs/queues.js';
import { QueueName, type IntakeJobData, type OutboundJobData } from '../jobs/types.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import { RedisCaseContacts } from '../cases/contacts.js';
import { credentialChecker } from './auth.js';
import { Dedup } from './dedup.js';
import { replyText } from './replies.js';
import { DoorServer } from './server.js';
import { ProbeGuard } from './probing.js';
import { Door } from './session.js';
import { Spool } from './spool.js';
import { loadTls } from './tls.js';

/**
 * The SMTP door: listens, refuses early, spools, queues. `stop()` turns newcomers away with
 * `421 4.3.2`, lets transactions in flight finish within `shutdownGraceMs`, then closes every
 * connection (`421 4.3.2` to idle ones) and the listener.
 */
/** How long the door waits at start for the queue's first answer from Redis. */
const READY_TIMEOUT_MS = 10_000;

export interface SmtpDoor {
  port: number;
  stop(): Promise<void>;
}

export interface StartSmtpOptions {
  config: Config;
  logger: Logger;
  store: ObjectStore;
  registry: CaseRegistry;
  /** a producer-role connection (no offline queue): a Redis outage is a 451 at once */
  redis: Redis;
}

export async function startSmtp(o: StartSmtpOptions): Promise<SmtpDoor> {
  const { config } = o;
  const logger = o.logger.child({ component: 'smtp' });
  const queue = createQueue(config, QueueName.intake, o.redis) as Queue<IntakeJobData>;
  // BullMQ re-emits the connection's errors here; unheard, it would print them to stderr
  queue.on('error', (err: Error) => logger.warn({ err, event: 'smtp_queue_error' }, 'intake queue connection error'));
  const outbound = createQueue(config, QueueName.outbound, o.redis) as Queue<OutboundJobData>;
  const spool = new Spool(o.store, queue, () => o.redis.status === 'ready', outbound);
  try {
    const server = await listen(config, logger, spool, o);
    return running(server.server, server.door, spool, config, logger);
  } catch (err) {
    await queue.close().catch(() => undefined);
    await outbound.close().catch(() => undefined);
    throw err;
  }
}

async function listen(config: Config, logger: Logger, spool: Spool, o: StartSmtpOptions): Promise<{ server: DoorServer; door: Door }> {
  await spool.ready(READY_TIMEOUT_MS);
  const dedup = config.dedupWindowSeconds > 0 ? new Dedup(o.redis, config.redisPrefix, config.dedupWindowSeconds, (id) => spool.isKnown(id)) : undefined;
  const door = new Door({
    config,
    logger,
    registry: o.registry,
    spool,
    dedup,
    checkCredentials: config.smtpAuthUsers ? credentialChecker(config.smtpAuthUsers) : undefined,
    contacts: new RedisCaseContacts(o.redis, config.redisPrefix, config.caseDigits),
    // under `record` the worker checks the sender from the spool (see src/auth/options.ts)
    // mailauth (~10 MiB of heap) only in a door that checks senders itself
    ...(config.authPolicy === 'require' ? { senderChecks: (await import('../auth/options.js')).senderCheckOptions(config) } : {}),
    probe: new ProbeGuard(o.redis, config),
  });
  const server = new DoorServer(serverOptions(config, door), config.smtpEarlyTalkerDelayMs, config.smtpSessionTimeoutMs, uploadBaseUrl(config));
  server.on('error', (err: Error) => logger.error({ err, event: 'smtp_server_error' }, 'SMTP server error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(config.smtpPort, config.smtpHost, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return { server, door };
}

function running(server: DoorServer, door: Door, spool: Spool, config: Config, logger: Logger): SmtpDoor {
  const port = (server.server.address() as AddressInfo).port;
  logger.info(
    { host: config.smtpHost, port, lmtp: config.smtpLmtp, tls: Boolean(config.smtpTlsCert), auth: Boolean(config.smtpAuthUsers), event: 'smtp_listening' },
    'SMTP door listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    port,
    stop: () => (stopping ??= stop(server, door, spool, config.shutdownGraceMs, logger)),
  };
}

function serverOptions(config: Config, door: Door): SMTPServerOptions {
  const tls = loadTls(config);
  const auth = Boolean(config.smtpAuthUsers);
  const disabled = [...(tls ? [] : ['STARTTLS']), ...(auth ? [] : ['AUTH'])];
  return {
    name: config.hostname,
    logger: false,
    lmtp: config.smtpLmtp,
    useProxy: config.smtpProxyProtocol,
    size: config.maxMessageBytes,
    hideSize: false,
    hideENHANCEDSTATUSCODES: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    disabledCommands: disabled,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !auth,
    authRequiredMessage: replyText('authRequired'),
    // without TLS configured, relays on a private network may still authenticate in clear text
    allowInsecureAuth: !tls,
    // the limit in total is enforced in onConnect with our reply; this bounds sockets still
    // waiting for a PROXY header as well
    maxClients: config.smtpMaxConnections,
    socketTimeout: config.smtpSocketTimeoutMs,
    closeTimeout: config.shutdownGraceMs,
    ...tls,
    onConnect: (session, cb) => door.onConnect(session, cb),
    onAuth: (auth, session, cb) => door.onAuth(auth, session, cb),
    onMailFrom: (address, session, cb) => door.onMailFrom(address, session, cb),
    onRcptTo: (address, session, cb) => door.onRcptTo(address, session, cb),
    onData: (stream, session, cb) => door.onData(stream, session, cb),
    onClose: (session) => door.onClose(session),
  };
}

async function stop(server: DoorServer, door: Door, spool: Spool, graceMs: number, logger: Logger): Promise<void> {
  door.stopping = true;
  logger.info({ inFlight: door.transactionsInFlight, event: 'smtp_stopping' }, 'SMTP door stopping: refusing newcomers, finishing transactions in flight');
  const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  const result = await Promise.race([door.whenIdle().then(() => 'idle' as const), grace]);
  if (result === 'timeout')
    logger.warn(
      { inFlight: door.transactionsInFlight, event: 'smtp_stop_timeout' },
      'transactions still in flight at the end of the grace period; closing them',
    );
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const connection of server.connections) connection.send(421, replyText('shuttingDown'));
  await closed;
  await spool.close();
  logger.info({ event: 'smtp_stopped' }, 'SMTP door stopped');
}
