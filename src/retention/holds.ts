import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';

export interface Hold {
  reason: string;
  by: string;
  since: string;
}

/** Legal holds: while one exists, retention leaves the case alone and purges are refused. */
export class Holds {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(caseNumber: string): Promise<Hold | undefined> {
    const h = await this.redis.hgetall(redisKey.caseHold(this.prefix, caseNumber));
    return h.since ? { reason: h.reason ?? '', by: h.by ?? '', since: h.since } : undefined;
  }

  async set(caseNumber: string, hold: Hold): Promise<void> {
    await this.redis.hset(redisKey.caseHold(this.prefix, caseNumber), { ...hold });
  }

  async clear(caseNumber: string): Promise<boolean> {
    return (await this.redis.del(redisKey.caseHold(this.prefix, caseNumber))) > 0;
  }
}
