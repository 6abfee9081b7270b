import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';
import { redisScript } from '../redis.js';
import { duplicateParts } from './filenames.js';

/**
 * Hands out a case's stored names (`logs.7z`, `logs (2).7z`, …). One Redis script per file does
 * the whole decision atomically, so workers on any machine can store files of the same case at
 * once without a lock, and the cost per file does not grow with the files already in the case
 * (reading every earlier file's metadata made a burst of 5,000 messages quadratic).
 *
 * Idempotent by file id: a retried job gets back the name its earlier attempt reserved.
 */
export interface NameRegistry {
  reserve(caseNumber: string, fileId: string, sanitizedName: string): Promise<string>;
}

// KEYS: byFile (fileId → name), byName (name → fileId), next (name → highest number handed out)
// ARGV: fileId, wanted name, stem, extension
const RESERVE = `
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then return done end
local name = ARGV[2]
if redis.call('HSETNX', KEYS[2], name, ARGV[1]) == 0 then
  repeat
    local n = redis.call('HINCRBY', KEYS[3], ARGV[2], 1) + 1
    name = ARGV[3] .. ' (' .. n .. ')' .. ARGV[4]
  until redis.call('HSETNX', KEYS[2], name, ARGV[1]) == 1
end
redis.call('HSET', KEYS[1], ARGV[1], name)
return name
`;

export function redisNameRegistry(redis: Redis, prefix: string): NameRegistry {
  const reserve = redisScript(redis, 'casedropReserveName', RESERVE, 3);
  return {
    async reserve(caseNumber, fileId, sanitizedName) {
      const { stem, ext } = duplicateParts(sanitizedName);
      const keys = [redisKey.caseNamesByFile(prefix, caseNumber), redisKey.caseNamesByName(prefix, caseNumber), redisKey.caseNamesNext(prefix, caseNumber)];
      return String(await reserve(...keys, fileId, sanitizedName, stem, ext));
    },
  };
}
