import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BatchSlot } from '../jobs/types.js';
import { redisKey } from '../redis-keys.js';
import { redisScript } from '../redis.js';

/**
 * Mail combined instead of sent one by one: outcomes waiting for a sender's digest (kind `sender`)
 * or for a combined engineer notice (kind `case`). The first member opens a window of one digest
 * interval; every member that joins while it is open goes out with it, in one mail, when one delayed
 * job (a fixed id per window, so adding it again is a no-op) runs at the window's end. So a burst
 * shorter than the interval is always one mail, wherever it falls on the clock.
 *
 * A member joins a sorted set scored by when it joined (ZADD NX: a retried notify step keeps its
 * first score), and a job sends every member scored up to its window's end — so a member whose
 * window closed unsent (its job failed for good) goes out with the next window. Members are removed
 * only after their mail went out.
 */
export type BatchKind = BatchSlot['kind'];
export type { BatchSlot };

export interface Batches {
  join(kind: BatchKind, subject: string, member: string): Promise<BatchSlot>;
  /** every member that joined up to the slot's end, oldest first */
  due(slot: BatchSlot): Promise<string[]>;
  remove(slot: BatchSlot, members: readonly string[]): Promise<void>;
}

// KEYS: the members, the open window's end. ARGV: now, interval (ms), member. Returns the window's end.
const JOIN = `
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[3])
local now = tonumber(ARGV[1])
local open = tonumber(redis.call('GET', KEYS[2]) or '0')
if open < now then
  open = now + tonumber(ARGV[2])
  redis.call('SET', KEYS[2], tostring(open), 'PX', tostring(2 * tonumber(ARGV[2])))
end
return tostring(open)
`;

export function redisBatches(redis: Redis, prefix: string, intervalMs: number, now: () => number = Date.now): Batches {
  const key = (kind: BatchKind, subject: string) => redisKey.batch(prefix, kind, subject);
  // registered once (EVALSHA per call), not the script's text sent with every join
  const joinScript = redisScript(redis, 'casedropBatchJoin', JOIN, 2);
  return {
    async join(kind, subject, member) {
      const until = Number(await joinScript(key(kind, subject), redisKey.batchWindow(prefix, kind, subject), String(now()), String(intervalMs), member));
      return { kind, subject, until };
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
