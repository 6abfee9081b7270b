import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CasedropError, ErrorCode } from '../errors.js';
import { redisKey } from '../redis-keys.js';
import { assertCaseNumber } from './number.js';
import { offerMatches, parsePublicKey, type KeyOffer, type SshKey, type StoredSshKey } from './ssh-key-rules.js';
import type { CaseRegistry } from './types.js';

/**
 * A case's SSH public keys, next to its upload tokens: `upload-ssh-keys:<case>` (id → JSON with
 * the public key) and, shared with the tokens, `upload-token-use:<case>` (`<id>:last`, and
 * `<id>:bytes` counted by the upload path as for a token). Key ids start with `k` so they never
 * meet a token id (12 hex digits) in that hash or in an upload's record.
 */
export interface SshKeyStore {
  add(caseNumber: string, publicKeyText: string, label?: string): Promise<SshKey>;
  list(caseNumber: string): Promise<SshKey[]>;
  /** how many were removed */
  remove(caseNumber: string, id: string | 'all'): Promise<number>;
  /** the registered key the offer is (and, when signed, proves), while its case is open; null otherwise */
  authenticate(caseNumber: string, offer: KeyOffer): Promise<SshKey | null>;
  recordLogin(caseNumber: string, id: string): Promise<void>;
}

export class RedisSshKeyStore implements SshKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly registry: CaseRegistry,
    private readonly digits: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async add(caseNumber: string, text: string, label?: string): Promise<SshKey> {
    assertCaseNumber(caseNumber, this.digits);
    const parsed = parsePublicKey(text);
    const found = await this.registry.get(caseNumber);
    if (!found) throw new CasedropError(ErrorCode.CaseNotFound, `case ${caseNumber} does not exist`);
    if (found.state !== 'open') throw new CasedropError(ErrorCode.UsageInvalid, `case ${caseNumber} is closed; reopen it before adding SSH keys`);
    const twin = (await this.stored(caseNumber)).find((k) => k.fingerprint === parsed.fingerprint);
    if (twin) throw new CasedropError(ErrorCode.UsageInvalid, `case ${caseNumber} already has this key (${twin.id})`);
    const key: StoredSshKey = {
      id: 'k' + randomBytes(6).toString('hex'),
      caseNumber,
      label: (label || parsed.comment).slice(0, 100),
      type: parsed.type,
      fingerprint: parsed.fingerprint,
      addedAt: this.now().toISOString(),
      blob: parsed.blob.toString('base64'),
    };
    await this.redis.hset(this.keysKey(caseNumber), key.id, JSON.stringify(key));
    return withoutBlob(key);
  }

  async list(caseNumber: string): Promise<SshKey[]> {
    assertCaseNumber(caseNumber, this.digits);
    return (await this.stored(caseNumber)).map(withoutBlob).sort((a, b) => a.addedAt.localeCompare(b.addedAt));
  }

  async remove(caseNumber: string, id: string | 'all'): Promise<number> {
    assertCaseNumber(caseNumber, this.digits);
    const gone = (await this.stored(caseNumber)).filter((k) => id === 'all' || k.id === id);
    if (gone.length === 0) return 0;
    await this.redis
      .multi()
      .hdel(this.keysKey(caseNumber), ...gone.map((k) => k.id))
      .hdel(redisKey.uploadTokenUse(this.prefix, caseNumber), ...gone.flatMap((k) => [`${k.id}:bytes`, `${k.id}:last`]))
      .exec();
    return gone.length;
  }

  async authenticate(caseNumber: string, offer: KeyOffer): Promise<SshKey | null> {
    const [keys, c] = await Promise.all([this.stored(caseNumber), this.registry.get(caseNumber)]);
    if (c?.state !== 'open') return null;
    const match = keys.find((k) => offerMatches(k, offer));
    return match ? withoutBlob(match) : null;
  }

  async recordLogin(caseNumber: string, id: string): Promise<void> {
    await this.redis.hset(redisKey.uploadTokenUse(this.prefix, caseNumber), `${id}:last`, this.now().toISOString());
  }

  private async stored(caseNumber: string): Promise<StoredSshKey[]> {
    const [records, use] = await Promise.all([
      this.redis.hvals(this.keysKey(caseNumber)),
      this.redis.hgetall(redisKey.uploadTokenUse(this.prefix, caseNumber)),
    ]);
    return records.map((r) => {
      const k = JSON.parse(r) as StoredSshKey;
      const last = use[`${k.id}:last`];
      return { ...k, ...(last ? { lastUsedAt: last } : {}) };
    });
  }

  private keysKey(caseNumber: string): string {
    return redisKey.uploadSshKeys(this.prefix, caseNumber);
  }
}

function withoutBlob({ blob: _blob, ...key }: StoredSshKey): SshKey {
  return key;
}
