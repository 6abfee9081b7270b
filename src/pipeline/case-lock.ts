import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { key } from '../redis.js';

/**
 * Serialises the naming-and-storing step per case across workers and machines, so two messages
 * processed at once cannot both name their file `logs.7z`. A lease (SET NX PX) that expires on
 * its own, so a worker that dies holding it blocks the case for `leaseMs` at most.
 */
export type CaseLock = <T>(caseNumber: string, fn: () => Promise<T>) => Promise<T>;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function redisCaseLock(redis: Redis, prefix: string, leaseMs = 60_000, pollMs = 50): CaseLock {
  return async (caseNumber, fn) => {
    const lockKey = key(prefix, 'case-lock', caseNumber);
    const token = randomBytes(12).toString('hex');
    while ((await redis.set(lockKey, token, 'PX', leaseMs, 'NX')) !== 'OK') {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    try {
      return await fn();
    } finally {
      await redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
    }
  };
}
