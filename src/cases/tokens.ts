import type { Redis } from 'ioredis';
import { CasedropError, ErrorCode } from '../errors.js';
import { randomBytes } from 'node:crypto';
import type { Channel } from '../intake/types.js';
import { redisKey } from '../redis-keys.js';
import { assertCaseNumber } from './number.js';
import { DEFAULT_TOKEN_CHANNELS, findByHash, hashSecret, looksLikeToken, newSecret, type StoredToken, type UploadToken } from './token-rules.js';
import type { CaseRegistry } from './types.js';

/**
 * A case's upload tokens. Narrow on purpose: the durable-record facility will replace the Redis
 * hashes below without changing callers. Per case: `upload-tokens:<case>` (id → JSON with the
 * hash) and `upload-token-use:<case>` (`<id>:bytes`, `<id>:last`), so counting use never rewrites
 * the token record.
 */
export interface CreateTokenOptions {
  label?: string;
  expiresInSeconds: number;
  channels?: Channel[];
  maxBytes?: number;
}

export interface TokenStore {
  create(caseNumber: string, options: CreateTokenOptions): Promise<{ secret: string; token: UploadToken }>;
  list(caseNumber: string): Promise<UploadToken[]>;
  /** how many were removed */
  revoke(caseNumber: string, id: string | 'all'): Promise<number>;
  /** the token the secret belongs to, while its case is open; null otherwise (the reason is not told to the client) */
  authenticate(caseNumber: string, secret: string): Promise<UploadToken | null>;
  recordUse(caseNumber: string, id: string, bytes: number): Promise<void>;
  /** the case a secret was made for (a Bearer login names no case); undefined when unknown */
  caseOf(secret: string): Promise<string | undefined>;
}

export class RedisTokenStore implements TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly registry: CaseRegistry,
    private readonly digits: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(caseNumber: string, o: CreateTokenOptions): Promise<{ secret: string; token: UploadToken }> {
    assertCaseNumber(caseNumber, this.digits);
    const found = await this.registry.get(caseNumber);
    if (!found) throw new CasedropError(ErrorCode.CaseNotFound, `case ${caseNumber} does not exist`);
    if (found.state !== 'open') throw new CasedropError(ErrorCode.UsageInvalid, `case ${caseNumber} is closed; reopen it before making upload tokens`);
    const secret = newSecret();
    const created = this.now();
    const token: UploadToken = {
      id: randomBytes(6).toString('hex'),
      caseNumber,
      label: (o.label ?? '').slice(0, 100),
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + o.expiresInSeconds * 1000).toISOString(),
      channels: o.channels ?? DEFAULT_TOKEN_CHANNELS,
      ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
      bytesUploaded: 0,
    };
    const stored: StoredToken = { ...token, hash: hashSecret(secret) };
    await this.redis.multi().hset(this.tokensKey(caseNumber), token.id, JSON.stringify(stored)).hset(this.indexKey(), stored.hash, caseNumber).exec();
    return { secret, token };
  }

  async list(caseNumber: string): Promise<UploadToken[]> {
    assertCaseNumber(caseNumber, this.digits);
    const stored = await this.stored(caseNumber);
    return stored.map(({ hash: _hash, ...t }) => t).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(caseNumber: string, id: string | 'all'): Promise<number> {
    assertCaseNumber(caseNumber, this.digits);
    const gone = (await this.stored(caseNumber)).filter((t) => id === 'all' || t.id === id);
    if (gone.length === 0) return 0;
    const multi = this.redis
      .multi()
      .hdel(this.tokensKey(caseNumber), ...gone.map((t) => t.id))
      .hdel(this.indexKey(), ...gone.map((t) => t.hash));
    multi.hdel(this.useKey(caseNumber), ...gone.flatMap((t) => [`${t.id}:bytes`, `${t.id}:last`]));
    await multi.exec();
    return gone.length;
  }

  async authenticate(caseNumber: string, secret: string): Promise<UploadToken | null> {
    // the same work for a malformed secret as for a wrong one, so timing tells nothing either
    const candidate = looksLikeToken(secret) ? secret : 'cdu_' + '-'.repeat(32);
    const [found, c] = await Promise.all([this.stored(caseNumber), this.registry.get(caseNumber)]);
    const match = findByHash(found, candidate);
    if (!match || !looksLikeToken(secret) || c?.state !== 'open') return null;
    const { hash: _hash, ...token } = match;
    return token;
  }

  async recordUse(caseNumber: string, id: string, bytes: number): Promise<void> {
    await this.redis
      .multi()
      .hincrby(this.useKey(caseNumber), `${id}:bytes`, bytes)
      .hset(this.useKey(caseNumber), `${id}:last`, this.now().toISOString())
      .exec();
  }

  async caseOf(secret: string): Promise<string | undefined> {
    if (!looksLikeToken(secret)) return undefined;
    return (await this.redis.hget(this.indexKey(), hashSecret(secret))) ?? undefined;
  }

  private indexKey(): string {
    return redisKey.uploadTokenIndex(this.prefix);
  }

  private async stored(caseNumber: string): Promise<StoredToken[]> {
    const [records, use] = await Promise.all([this.redis.hvals(this.tokensKey(caseNumber)), this.redis.hgetall(this.useKey(caseNumber))]);
    return records.map((r) => {
      const t = JSON.parse(r) as StoredToken;
      const last = use[`${t.id}:last`];
      return { ...t, bytesUploaded: Number(use[`${t.id}:bytes`] ?? 0), ...(last ? { lastUsedAt: last } : {}) };
    });
  }

  private tokensKey(caseNumber: string): string {
    return redisKey.uploadTokens(this.prefix, caseNumber);
  }

  private useKey(caseNumber: string): string {
    return redisKey.uploadTokenUse(this.prefix, caseNumber);
  }
}
