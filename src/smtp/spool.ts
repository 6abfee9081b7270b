import { Readable } from 'node:stream';
import type { Queue } from 'bullmq';
import { CasedropError, ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import { idTime } from '../ids.js';
import { abandonedId, outcomeId, spoolObjectId } from '../jobs/ids.js';
import type { IntakeJobData, OutboundJobData, SpoolMeta } from '../jobs/types.js';
import type { ObjectStore, PutResult } from '../store/types.js';

/** A backstop: each Redis command already times out, but an add may be several of them. */
const ADD_TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the queue within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The door's two durable steps and their undo: the encrypted spool object (fsynced by the store
 * before put resolves) and the intake job, whose id is the spool id so a repeated add is a no-op.
 * Job data holds the id only; the message stays in the store.
 */
export class Spool {
  constructor(
    private readonly store: ObjectStore,
    private readonly queue: Queue<IntakeJobData>,
    /** the producer connection is up: an add on a connection that is down would wait, not fail */
    private readonly connected: () => boolean,
    /** postmaster mail goes straight to the outbound queue (src/smtp/postmaster.ts) */
    private readonly outbound?: Queue<OutboundJobData>,
  ) {}

  /**
   * Resolves once the queue's first contact with Redis (BullMQ's version check) succeeded. That
   * check runs once per queue and a failed one fails every later add, so the door checks it at
   * start and refuses to start without it rather than answering 451 until restarted.
   */
  async ready(timeoutMs: number): Promise<void> {
    try {
      await withTimeout(this.queue.waitUntilReady(), timeoutMs);
    } catch (err) {
      throw new CasedropError(ErrorCode.QueueUnavailable, 'the intake queue is not reachable', { cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.outbound?.close()]);
  }

  writePostmaster(meta: { spoolId: string } & Record<string, unknown>, body: AsyncIterable<Uint8Array>): Promise<PutResult> {
    return this.store.put('spool', body, meta, { name: meta.spoolId });
  }

  /** The forwarding job for a postmaster message; its id is the spool id, so a repeated add is a no-op. */
  async enqueuePostmaster(spoolId: string): Promise<void> {
    try {
      if (!this.outbound) throw new Error('no outbound queue at this door');
      if (!this.connected()) throw new Error('Redis connection not ready');
      await withTimeout(this.outbound.add('postmaster', { spoolId, kind: 'postmaster' }, { jobId: spoolId }), ADD_TIMEOUT_MS);
    } catch (err) {
      throw new CasedropError(ErrorCode.QueueUnavailable, 'outbound queue unavailable', { cause: err });
    }
  }

  write(meta: SpoolMeta, body: AsyncIterable<Uint8Array>): Promise<PutResult> {
    return this.store.put('spool', body, { ...meta }, { name: meta.spoolId });
  }

  async enqueue(spoolId: string): Promise<void> {
    try {
      if (!this.connected()) throw new Error('Redis connection not ready');
      await withTimeout(this.queue.add('message', { spoolId }, { jobId: spoolId }), ADD_TIMEOUT_MS);
    } catch (err) {
      throw new CasedropError(ErrorCode.QueueUnavailable, 'intake queue unavailable', { cause: err });
    }
  }

  /**
   * The door gives up on a message after trying to queue it (Redis went away) and answers 4xx. The
   * add may still reach Redis later: a marker tells the worker that such a job is a ghost to drop
   * quietly, not a lost message to dead-letter. Without the marker (disk full too) the ghost is only
   * dead-lettered: the sender's MTA resends the message either way.
   */
  async abandon(spoolId: string, log: Logger): Promise<void> {
    await this.store.put('abandoned', Readable.from([]), { spoolId }, { name: spoolId }).catch((err: unknown) => {
      log.warn({ err, spoolId }, 'could not mark the abandoned message; a late job for it will be dead-lettered');
    });
    await this.discard(spoolId, log);
  }

  /** Removes a spool object that must not be processed; failures are logged, never thrown (a reply is pending). */
  async discard(spoolId: string, log: Logger): Promise<void> {
    try {
      await this.store.delete(spoolObjectId(spoolId));
    } catch (err) {
      if (isCasedropError(err, ErrorCode.ObjectNotFound)) return;
      // an orphan is harmless to the pipeline (no job points at it) but wastes space: say so
      log.error({ err, spoolId, event: 'spool_orphan' }, 'could not remove a spool object that will not be processed');
    }
  }

  /**
   * The pipeline knows a spool id once its outcome was recorded, or while its spool object is
   * there and it has a job. A job without its spool object is a ghost: an add that timed out while
   * Redis went away but landed later, after this door had discarded the spool object and answered
   * 451. Counting the ghost as the original would answer the sender's retry "250 already queued"
   * and lose the message (the Redis-outage fault test caught exactly that).
   *
   * A spool object without a job, older than any door takes to queue one, was left by a door that
   * died before its 250 (or Redis forgot the job): the client is now sending it again. Queueing
   * the original here (its id is the job id, so this is what recovery would do) and answering
   * "already queued" stores the message once; taking the resend as new would store it twice once
   * recovery queues the original too. Younger, its door may still be queueing it: not known.
   */
  async isKnown(spoolId: string): Promise<boolean> {
    if (await this.store.exists(outcomeId(spoolId))) return true;
    if (!(await this.store.exists(spoolObjectId(spoolId)))) return false;
    if ((await this.queue.getJob(spoolId)) !== undefined) return true;
    if (Date.now() - idTime(spoolId) < ADOPT_AFTER_MS || (await this.store.exists(abandonedId(spoolId)))) return false;
    await this.enqueue(spoolId);
    return true;
  }
}

/** Past the door's own add limit: a spool object this old without a job has no door working on it. */
const ADOPT_AFTER_MS = 2 * ADD_TIMEOUT_MS;
