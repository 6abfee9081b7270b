import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BatchSlot } from '../jobs/types.js';
import { redisKey } from '../redis-keys.js';

/**
 * Mail combined instead of sent one by one: outcomes waiting for a sender's digest (kind `sender`)
 * or for a combined engineer notice (kind `case`). A member joins a sorted set scored by when it
 * joined; time is cut into slots of the digest interval, and one delayed job per subject and slot
 * (a fixed job id, so adding it again is a no-op) sends everything that joined up to the slot's end.
 * A retried notify job re-joins with its first score (ZADD NX) and so finds the same job. Members
 * are removed only after their mail went out: a failed job leaves them for the next one.
 */
export type BatchKind = BatchSlot['kind'];
export type { BatchSlot };

export interface Batches {
  join(kind: BatchKind, subject: string, member: string): Promise<BatchSlot>;
  /** every member that joined up to the slot's end, oldest first */
  due(slot: BatchSlot): Promise<string[]>;
  remove(slot: BatchSlot, members: readonly string[]): Promise<void>;
}

export function redisBatches(redis: Redis, prefix: string, intervalMs: number, now: () => number = Date.now): Batches {
  const key = (kind: BatchKind, subject: string) => redisKey.batch(prefix, kind, subject);
  return {
    async join(kind, subject, member) {
      const k = key(kind, subject);
      const [, [, score]] = (await redis.multi().zadd(k, 'NX', now(), member).zscore(k, member).exec()) as [[unknown, unknown], [unknown, string]];
      const joined = Number(score);
      return { kind, subject, until: (Math.floor(joined / intervalMs) + 1) * intervalMs };
    },
    async due(slot) {
      return redis.zrangebyscore(key(slot.kind, slot.subject), '-inf', slot.until);
    },
    async remove(slot, members) {
      if (members.length > 0) await redis.zrem(key(slot.kind, slot.subject), ...members);
    },
  };
}

/** The job id of a slot: BullMQ ids may not hold ':', and a subject is an address or a case number. */
export function batchJobId(slot: BatchSlot): string {
  const h = createHash('sha256').update(slot.subject).digest('hex').slice(0, 16);
  return `batch-${slot.kind}-${h}-${slot.until}`;
}
