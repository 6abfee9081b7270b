import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';

/**
 * At most N automatic replies per sender per hour, counted in Redis so every worker shares the count.
 * One Lua script does it atomically: the first call for an outcome counts it and records the
 * answer under the outcome's id; a retried notify job gets that same answer back without counting
 * again, so retries neither eat the sender's allowance nor turn an allowed reply into a refused one.
 * The window is fixed, starting with the sender's first counted reply (INCR, then EXPIRE on 1).
 */
const SCRIPT = `
local decided = redis.call('GET', KEYS[2])
if decided then return decided end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local answer = 'limited'
if n <= tonumber(ARGV[1]) then answer = 'allowed' end
redis.call('SET', KEYS[2], answer, 'EX', ARGV[3])
return answer
`;

const WINDOW_SECONDS = 3600;
/** Longer than any notify job's retries (attempts × doubling backoff) could last. */
const DECISION_TTL_SECONDS = 7 * 24 * 3600;

export interface RateLimiter {
  /** true when this outcome's reply to `sender` is within the limit */
  allow(sender: string, spoolId: string): Promise<boolean>;
}

export function redisRateLimiter(redis: Redis, prefix: string, perHour: number): RateLimiter {
  return {
    async allow(sender, spoolId) {
      const keys = [redisKey.replyRate(prefix, sender.toLowerCase()), redisKey.replyCounted(prefix, spoolId)];
      const answer = await redis.eval(SCRIPT, 2, ...keys, String(perHour), String(WINDOW_SECONDS), String(DECISION_TTL_SECONDS));
      return answer === 'allowed';
    },
  };
}
