import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from '../redis-keys.js';

/**
 * "Have we queued this message already?" — the same Message-ID and the same content within the
 * window. A claim is `SET NX EX` of a key derived from both, holding the spool id that won.
 *
 * A claim whose message never reached the queue (the add failed and the release failed too, as
 * both need Redis) must not swallow the sender's retry: a hit counts as a duplicate only while the
 * winner is known to the pipeline (`isKnown`: its job or its outcome exists); otherwise the new
 * message takes the claim over. Two copies racing each other may both be queued: a duplicate is
 * acceptable, a lost message is not.
 */
export interface DedupClaim {
  /** set when the message is a duplicate: the spool id it was queued under */
  duplicateOf?: string;
  release(): Promise<void>;
}

export class Dedup {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowSeconds: number,
    private readonly isKnown: (spoolId: string) => Promise<boolean>,
  ) {}

  async claim(messageId: string, contentSha256: string, spoolId: string): Promise<DedupClaim> {
    const k = this.keyOf(messageId, contentSha256);
    const release = () => this.release(k, spoolId);
    if ((await this.redis.set(k, spoolId, 'EX', this.windowSeconds, 'NX')) === 'OK') return { release };
    const winner = await this.redis.get(k);
    if (winner && winner !== spoolId && (await this.isKnown(winner))) return { duplicateOf: winner, release: async () => undefined };
    await this.redis.set(k, spoolId, 'EX', this.windowSeconds);
    return { release };
  }

  private async release(k: string, spoolId: string): Promise<void> {
    // only our own claim: another message may have taken the key over meanwhile
    if ((await this.redis.get(k)) === spoolId) await this.redis.del(k);
  }

  private keyOf(messageId: string, contentSha256: string): string {
    const h = createHash('sha256').update(messageId.trim()).update('\0').update(contentSha256).digest('hex');
    return redisKey.dedup(this.prefix, h);
  }
}
