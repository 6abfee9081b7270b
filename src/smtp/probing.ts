import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { smtpProbes } from '../metrics.js';
import { redisKey } from '../redis-keys.js';

/**
 * Case-number probing: a client that gets many `550 5.1.1 case does not exist` replies in a short
 * time is guessing case numbers. Counted per client address in Redis (so every door shares the
 * count): from `smtpProbeTarpitAfter` on, each further refusal is answered a second later per
 * refusal (at most ten), and from `smtpProbeBlockAfter` on the address is refused at MAIL until its
 * window ends. A human who mistyped once never reaches either: the reply stays the helpful one.
 */
export type ProbeConfig = Pick<Config, 'redisPrefix' | 'smtpProbeWindowSeconds' | 'smtpProbeTarpitAfter' | 'smtpProbeBlockAfter'>;

const MAX_DELAY_MS = 10_000;

export class ProbeGuard {
  constructor(
    private readonly redis: Redis,
    private readonly config: ProbeConfig,
  ) {}

  /** Seconds the address stays refused, or undefined when it may send. */
  async blockedFor(address: string): Promise<number | undefined> {
    const key = redisKey.smtpProbe(this.config.redisPrefix, address);
    const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.ttl(key)]);
    if (Number(count ?? 0) < this.config.smtpProbeBlockAfter) return undefined;
    smtpProbes.inc({ action: 'blocked' });
    return Math.max(ttl, 1);
  }

  /** Counts one "case does not exist" reply; returns how long to hold that reply back. */
  async record(address: string, log: Logger): Promise<number> {
    const key = redisKey.smtpProbe(this.config.redisPrefix, address);
    const results = await this.redis.multi().incr(key).expire(key, this.config.smtpProbeWindowSeconds, 'NX').exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    smtpProbes.inc({ action: 'counted' });
    const over = count - this.config.smtpProbeTarpitAfter + 1;
    if (over <= 0) return 0;
    smtpProbes.inc({ action: 'tarpit' });
    log.warn(
      { event: 'smtp_probe', client: address, count, blocked: count >= this.config.smtpProbeBlockAfter },
      'many unknown case numbers from one address: slowing it down',
    );
    return Math.min(over * 1000, MAX_DELAY_MS);
  }
}
