import type { Redis } from 'ioredis';
import { idTime } from '../ids.js';
import type { Logger } from '../log.js';
import { redisKey } from '../redis-keys.js';
import type { ObjectStore } from '../store/types.js';
import { abandonedId, outboundJobId, outcomeId, repliesSettledId, spoolObjectId } from '../jobs/ids.js';
import { QueueName, type IntakeJobData, type NotifyJobData, type OutboundJobData } from '../jobs/types.js';

/**
 * Postfix's rule: the spool directory is the truth, Redis an index that can be rebuilt from it.
 * A spool object no job points at (Redis restarted empty, lost its last second, failed over to a
 * lagging replica; or a door died between spooling and queueing) is queued again under its spool
 * id, never deleted; an outcome whose replies were never all sent, and that has no job left in Redis
 * to send them, gets a notify job.
 *
 * Cheap for 100,000 objects: the directory is streamed (one entry at a time), an object's age is
 * read from its time-ordered id (no decryption at all), Redis is asked about 500 ids per round
 * trip, and an outcome costs one stat (its `replies/<id>` marker). Nothing is held but one batch.
 */
export interface RecoveryDeps {
  store: ObjectStore;
  /** any connection: only EXISTS on the job hashes */
  redis: Redis;
  prefix: string;
  intake: Adder<IntakeJobData>;
  notify: Adder<NotifyJobData>;
  /** mail to postmaster is spooled too, but forwarded by an outbound job (src/smtp/postmaster.ts) */
  outbound: Adder<OutboundJobData>;
  logger: Logger;
  /**
   * Younger objects are left alone: their door (or intake job) may still be about to add the job,
   * and a door whose add then fails answers 4xx; re-queueing it first could store a message its
   * sender will send again.
   */
  minAgeMs: number;
  now?: () => number;
}

interface Adder<T> {
  add(name: string, data: T, opts: { jobId: string }): Promise<unknown>;
}

export interface RecoveryCounts {
  spool: { seen: number; young: number; known: number; requeued: number; abandoned: number };
  outcomes: { seen: number; young: number; settled: number; known: number; requeued: number };
  ms: number;
}

const BATCH = 500;

export async function recover(deps: RecoveryDeps): Promise<RecoveryCounts> {
  const started = Date.now();
  const now = deps.now?.() ?? started;
  const counts: RecoveryCounts = {
    spool: { seen: 0, young: 0, known: 0, requeued: 0, abandoned: 0 },
    outcomes: { seen: 0, young: 0, settled: 0, known: 0, requeued: 0 },
    ms: 0,
  };
  await inBatches(oldEnough(deps.store.names('spool'), now, deps.minAgeMs, counts.spool), (ids) => requeueSpool(ids, deps, counts));
  await inBatches(oldEnough(deps.store.names('outcomes'), now, deps.minAgeMs, counts.outcomes), async (ids) => {
    // the stats of a batch at once: one after another, 100,000 of them took most of the scan's time
    const settled = await Promise.all(ids.map((id) => deps.store.exists(repliesSettledId(id))));
    counts.outcomes.settled += settled.filter(Boolean).length;
    const unsettled = ids.filter((_, i) => !settled[i]);
    if (unsettled.length > 0) await requeueNotify(unsettled, deps, counts);
  });
  counts.ms = Date.now() - started;
  const requeued = counts.spool.requeued + counts.outcomes.requeued;
  deps.logger[requeued > 0 ? 'warn' : 'info'](
    { event: 'recovery_scan', ...counts },
    requeued > 0 ? 'recovery re-queued what Redis did not know' : 'recovery scan: Redis knows every spool object and unsettled outcome',
  );
  return counts;
}

async function* oldEnough(names: AsyncIterable<string>, now: number, minAgeMs: number, c: { seen: number; young: number }): AsyncIterable<string> {
  for await (const id of names) {
    c.seen++;
    // an id that carries no time (not made by newId) counts as old: recovering it is the safe side
    if (now - idTime(id) < minAgeMs) c.young++;
    else yield id;
  }
}

async function inBatches(ids: AsyncIterable<string>, fn: (batch: string[]) => Promise<void>): Promise<void> {
  let batch: string[] = [];
  for await (const id of ids) {
    batch.push(id);
    if (batch.length >= BATCH) {
      await fn(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await fn(batch);
}

/** Which of `ids` have a job (in any state, the dead-letter list included) in `queue`: one round trip. */
async function known(deps: RecoveryDeps, queue: string, ids: string[]): Promise<boolean[]> {
  const pipeline = deps.redis.pipeline();
  for (const id of ids) pipeline.exists(redisKey.job(deps.prefix, queue, id));
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, n]) => {
    if (err) throw err;
    return n === 1;
  });
}

async function requeueSpool(ids: string[], deps: RecoveryDeps, counts: RecoveryCounts): Promise<void> {
  const isKnown = await known(deps, QueueName.intake, ids);
  const forwarding = await known(deps, QueueName.outbound, ids);
  for (const [i, spoolId] of ids.entries()) {
    if (isKnown[i] || forwarding[i]) {
      counts.spool.known++;
      continue;
    }
    if (await deps.store.exists(abandonedId(spoolId))) {
      // its door answered 4xx and could not remove it: the sender sends it again, so this copy must go
      await deps.store.delete(spoolObjectId(spoolId));
      counts.spool.abandoned++;
      continue;
    }
    // with an outcome it is a message the intake finished, back after a power loss (its delete is not
    // fsynced) and maybe without its key: the intake completes it without reading it
    if (!(await deps.store.exists(outcomeId(spoolId))) && (await deps.store.head(spoolObjectId(spoolId))).meta.postmaster === true) {
      await deps.outbound.add('postmaster', { spoolId, kind: 'postmaster' }, { jobId: spoolId });
    } else {
      await deps.intake.add('message', { spoolId }, { jobId: spoolId });
    }
    counts.spool.requeued++;
    deps.logger.info({ spoolId, event: 'spool_requeued' }, 'spool object had no job: queued again');
  }
}

/**
 * An unsettled outcome is known to Redis by its notify job (recovery's own, or an older version's)
 * or by an outbound job of its replies: the intake job decides them inline and adds those directly.
 * Its combined mails (digests, notices) are settled at once and never land here.
 */
async function requeueNotify(ids: string[], deps: RecoveryDeps, counts: RecoveryCounts): Promise<void> {
  const [notify, sender, engineer] = await Promise.all([
    known(deps, QueueName.notify, ids),
    known(deps, QueueName.outbound, ids.map(outboundJobId.sender)),
    known(deps, QueueName.outbound, ids.map(outboundJobId.engineer)),
  ]);
  for (const [i, spoolId] of ids.entries()) {
    if (notify[i] || sender[i] || engineer[i]) {
      counts.outcomes.known++;
      continue;
    }
    // safe to repeat: each reply is sent once, by its durable marker (src/notify/sent.ts)
    await deps.notify.add('outcome', { outcomeId: outcomeId(spoolId) }, { jobId: spoolId });
    counts.outcomes.requeued++;
  }
}
