import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config/schema.js';

/**
 * Producers (the SMTP door) must fail fast when Redis is down so the door answers 451 instead of
 * queueing in memory; call `ready()` before first use. Workers block on Redis and wait for it
 * forever. The CLI queues its first commands until connected but gives up at once if it cannot connect.
 */
export type RedisRole = 'producer' | 'worker' | 'cli';

export function createRedis(config: Pick<Config, 'redisUrl'>, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 5000 },
    worker: { maxRetriesPerRequest: null },
    cli: { maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null },
  }[role];
  const redis = new Redis(config.redisUrl, { ...base, lazyConnect: false, ...extra });
  // Connection errors surface as rejected commands where they matter; without a listener ioredis
  // would also print each one to stderr, outside the structured log.
  redis.on('error', () => undefined);
  return redis;
}

/** Resolves once the connection is usable; a producer with no offline queue refuses commands before that. */
export function ready(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      redis.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      redis.off('ready', onReady);
      reject(err);
    };
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
}

type ScriptArg = string | number | Buffer;

/**
 * A Lua script registered once per connection (ioredis `defineCommand`): each call sends EVALSHA
 * and the arguments, not the script text; Redis answering NOSCRIPT (a restart, SCRIPT FLUSH) makes
 * ioredis send the text once more. `name` must be unique per script. Without `numberOfKeys`, the
 * first argument of each call is the number of keys (as for EVAL).
 */
export function redisScript(redis: Redis, name: string, lua: string, numberOfKeys?: number): (...keysThenArgs: ScriptArg[]) => Promise<unknown> {
  const commands = redis as unknown as Record<string, ((...a: ScriptArg[]) => Promise<unknown>) | undefined>;
  if (typeof commands[name] !== 'function') redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
  const run = commands[name]!;
  return (...keysThenArgs) => run.apply(redis, keysThenArgs);
}
