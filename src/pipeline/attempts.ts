import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';

/**
 * The durable attempt marker of the risky step (parse and verify). It is counted up in Redis when the
 * message enters its parse thread and removed when the analysis is back, so a count left over when
 * the message enters again means earlier attempts died inside the step: the process was killed, ran
 * out of memory or crashed while parsing it. Redis
 * is where the job itself lives (AOF), so the marker is exactly as durable as the job.
 */
export interface AttemptMarker {
  /** counts this attempt in; returns how many attempts, this one included, have not finished */
  begin(spoolId: string): Promise<number>;
  finish(spoolId: string): Promise<void>;
}

// a marker outlives any retry schedule; it only has to expire for jobs removed by hand
const TTL_SECONDS = 30 * 24 * 3600;

const attemptKey = redisKey.intakeUnfinished;

export function redisAttemptMarker(redis: Redis, prefix: string): AttemptMarker {
  return {
    begin: async (spoolId) => {
      const key = attemptKey(prefix, spoolId);
      const [[, count]] = (await redis.multi().incr(key).expire(key, TTL_SECONDS).exec()) as [[unknown, number], unknown];
      return count;
    },
    finish: async (spoolId) => {
      await redis.del(attemptKey(prefix, spoolId));
    },
  };
}
