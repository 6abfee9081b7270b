import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { uploadLoginFailures, uploadLoginsBlocked } from '../metrics.js';
import { redisKey } from '../redis-keys.js';

/**
 * Failed upload logins, counted per client address and per case in Redis (so every instance sees
 * the same counts). Past a threshold within the window the client gets 429 with Retry-After until
 * the window ends, even with a right token: with 192-bit tokens and ~10 guesses per 15 minutes,
 * brute force is hopeless, and every block is a metric and a log line.
 */
export interface LoginLimitOptions {
  perAddress: number;
  perCase: number;
  windowSeconds: number;
}

export interface LoginLimiter {
  /** seconds to wait when blocked, else 0 */
  blockedFor(address: string, caseNumber: string | undefined): Promise<number>;
  failed(address: string, caseNumber: string | undefined): Promise<void>;
}

export function redisLoginLimiter(redis: Redis, prefix: string, o: LoginLimitOptions, logger: Logger): LoginLimiter {
  const addrKey = (a: string) => redisKey.loginFailuresByAddress(prefix, a);
  const caseKey = (c: string) => redisKey.loginFailuresByCase(prefix, c);
  const ttlIfOver = async (k: string, limit: number): Promise<number> => {
    const [count, ttl] = await Promise.all([redis.get(k), redis.ttl(k)]);
    return Number(count ?? 0) >= limit ? Math.max(1, ttl) : 0;
  };
  return {
    async blockedFor(address, caseNumber) {
      const waits = await Promise.all([ttlIfOver(addrKey(address), o.perAddress), caseNumber ? ttlIfOver(caseKey(caseNumber), o.perCase) : 0]);
      const wait = Math.max(...waits);
      if (wait > 0) {
        uploadLoginsBlocked.inc({ scope: waits[0]! > 0 ? 'address' : 'case' });
        logger.warn({ event: 'upload_login_blocked', clientAddress: address, caseNumber, retryAfter: wait }, 'upload login refused: too many failed logins');
      }
      return wait;
    },
    async failed(address, caseNumber) {
      const multi = redis.multi().incr(addrKey(address)).expire(addrKey(address), o.windowSeconds, 'NX');
      if (caseNumber) multi.incr(caseKey(caseNumber)).expire(caseKey(caseNumber), o.windowSeconds, 'NX');
      await multi.exec();
      uploadLoginFailures.inc();
      logger.info({ event: 'upload_login_failed', clientAddress: address, caseNumber }, 'upload login failed');
    },
  };
}
