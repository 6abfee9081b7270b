import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';
import { redisScript } from '../redis.js';

/**
 * Several hourly caps checked and counted at once, in Redis so every worker shares them. One Lua
 * script: the first call for an outcome either counts it against every cap (all within their
 * limits) or counts nothing and names the first cap it would pass; the answer is remembered under
 * the outcome's id, so a retried notify step gets the same answer and counts nothing twice. Mail over
 * a cap is not dropped: the caller combines it into a digest (src/notify/batch.ts).
 */
const SCRIPT = `
local decided = redis.call('GET', KEYS[1])
if decided then return decided end
local n = #KEYS - 1
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if count >= tonumber(ARGV[i]) then
    redis.call('SET', KEYS[1], ARGV[n + i + 2], 'EX', ARGV[n + 2])
    return ARGV[n + i + 2]
  end
end
for i = 1, n do
  if redis.call('INCR', KEYS[i + 1]) == 1 then redis.call('EXPIRE', KEYS[i + 1], ARGV[n + 1]) end
end
redis.call('SET', KEYS[1], 'allowed', 'EX', ARGV[n + 2])
return 'allowed'
`;

const WINDOW_SECONDS = 3600;
/** Longer than any notify step's retries (attempts × doubling backoff) could last. */
const DECISION_TTL_SECONDS = 7 * 24 * 3600;

export interface Cap {
  /** metric label and key part: `sender`, `sender-domain`, `client-ip`, `total`, `case-notices` */
  name: string;
  subject: string;
  limit: number;
}

export type CapAnswer = 'allowed' | string;

export interface Caps {
  /** `allowed` (counted against every cap) or the name of the first cap this outcome would pass */
  check(use: string, spoolId: string, caps: readonly Cap[]): Promise<CapAnswer>;
}

export function redisCaps(redis: Redis, prefix: string): Caps {
  const script = redisScript(redis, 'casedropCapCheck', SCRIPT);
  return {
    async check(use, spoolId, caps) {
      const keys = [redisKey.capDecided(prefix, use, spoolId), ...caps.map((c) => redisKey.capCount(prefix, c.name, c.subject))];
      const args = [...caps.map((c) => String(c.limit)), String(WINDOW_SECONDS), String(DECISION_TTL_SECONDS), ...caps.map((c) => c.name)];
      return String(await script(keys.length, ...keys, ...args));
    },
  };
}
