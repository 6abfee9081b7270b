import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';

/** Bytes uploaded to each case, for the per-case cap (`upload-bytes:<case>`). */
export interface CaseUsage {
  bytes(caseNumber: string): Promise<number>;
  add(caseNumber: string, bytes: number): Promise<void>;
}

export function redisCaseUsage(redis: Redis, prefix: string): CaseUsage {
  const k = (c: string) => redisKey.uploadBytes(prefix, c);
  return {
    bytes: async (c) => Number((await redis.get(k(c))) ?? 0),
    add: async (c, n) => void (await redis.incrby(k(c), n)),
  };
}
