import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';

/**
 * Unfinished uploads, findable only by the token that started them (upload-only: a token never
 * learns of another's uploads), and a lock so one request at a time appends to each. Behind this
 * narrow interface so the durable-record facility can replace Redis here.
 */
export interface PartialUpload {
  id: string;
  caseNumber: string;
  tokenId: string;
  tokenLabel: string;
  name: string;
  length: number;
  createdAt: string;
  expiresAt: string;
  clientAddress: string;
  expectSha256?: string;
}

export interface Partials {
  save(p: PartialUpload): Promise<void>;
  find(caseNumber: string, tokenId: string, name: string): Promise<PartialUpload | undefined>;
  get(uploadId: string): Promise<PartialUpload | undefined>;
  remove(p: PartialUpload): Promise<void>;
  expired(now: Date, limit: number): Promise<PartialUpload[]>;
  /** a release function, or undefined when another request holds the upload */
  lock(uploadId: string): Promise<(() => Promise<void>) | undefined>;
}

const LOCK_MS = 60_000;
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

export function redisPartials(redis: Redis, prefix: string): Partials {
  const get = async (id: string): Promise<PartialUpload | undefined> => {
    const h = await redis.hgetall(redisKey.upload(prefix, id));
    return h.id ? ({ ...h, length: Number(h.length) } as unknown as PartialUpload) : undefined;
  };
  return {
    async save(p) {
      await redis
        .multi()
        .hset(redisKey.upload(prefix, p.id), { ...p, length: String(p.length) })
        .hset(redisKey.uploadByName(prefix, p.caseNumber, p.tokenId), p.name, p.id)
        .zadd(redisKey.uploadsExpiring(prefix), Date.parse(p.expiresAt), p.id)
        .exec();
    },
    get,
    async find(caseNumber, tokenId, name) {
      const id = await redis.hget(redisKey.uploadByName(prefix, caseNumber, tokenId), name);
      return id ? get(id) : undefined;
    },
    async remove(p) {
      const byName = redisKey.uploadByName(prefix, p.caseNumber, p.tokenId);
      await redis.multi().del(redisKey.upload(prefix, p.id)).zrem(redisKey.uploadsExpiring(prefix), p.id).exec();
      // only if the name still points at this upload (a newer one of the same name keeps it)
      if ((await redis.hget(byName, p.name)) === p.id) await redis.hdel(byName, p.name);
    },
    async expired(now, limit) {
      const ids = await redis.zrangebyscore(redisKey.uploadsExpiring(prefix), 0, now.getTime(), 'LIMIT', 0, limit);
      const found = await Promise.all(ids.map(get));
      // an id whose record is gone was finished or removed between the two reads
      await Promise.all(ids.filter((_id, i) => !found[i]).map((id) => redis.zrem(redisKey.uploadsExpiring(prefix), id)));
      return found.filter((p): p is PartialUpload => p !== undefined);
    },
    async lock(uploadId) {
      const k = redisKey.uploadLock(prefix, uploadId);
      const owner = randomBytes(12).toString('hex');
      if ((await redis.set(k, owner, 'PX', LOCK_MS, 'NX')) !== 'OK') return undefined;
      // a long append keeps the lock; a crashed instance's lock lapses within LOCK_MS
      const timer = setInterval(() => void redis.eval(RENEW, 1, k, owner, LOCK_MS).catch(() => undefined), LOCK_MS / 3);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await redis.eval(RELEASE, 1, k, owner);
      };
    },
  };
}
