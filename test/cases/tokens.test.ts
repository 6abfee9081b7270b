import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseRegistry, type DurableCaseRegistry } from '../../src/cases/registry.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { findByHash, hashSecret, newSecret, parseDuration, tokenAllows, type StoredToken } from '../../src/cases/token-rules.js';
import { RedisTokenStore } from '../../src/cases/tokens.js';
import { createRedis } from '../../src/redis.js';
import { testConfig } from '../helpers/env.js';

const env = testConfig();
const CASE = '612345678';
let redis: Redis;
let registry: DurableCaseRegistry;
const clock = new Date('2026-11-30T00:00:00Z');
let tokens: RedisTokenStore;

beforeAll(async () => {
  redis = createRedis(env.config, 'worker');
  registry = caseRegistry(await openStore(env.config, createLogger('silent')), redis, env.config, createLogger('silent'));
  tokens = new RedisTokenStore(redis, env.config.redisPrefix, registry, 9, () => clock);
  await registry.open(CASE, 'eng@example.com');
});

afterAll(async () => {
  redis.disconnect();
  await env.cleanup();
});

describe('token rules (pure)', () => {
  it('makes 192-bit cdu_ secrets that differ every time', () => {
    const a = newSecret();
    expect(a).toMatch(/^cdu_[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(a.slice(4), 'base64url')).toHaveLength(24);
    expect(new Set(Array.from({ length: 1000 }, newSecret)).size).toBe(1000);
  });

  it('finds a token by the hash of its secret only', () => {
    const secret = newSecret();
    const t = { id: 'a', hash: hashSecret(secret) } as StoredToken;
    expect(findByHash([{ id: 'b', hash: hashSecret(newSecret()) } as StoredToken, t], secret)?.id).toBe('a');
    expect(findByHash([t], secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
  });

  it('refuses expired, wrong-channel and over-quota use', () => {
    const now = new Date('2026-01-02T00:00:00Z');
    const t = {
      id: 'a',
      caseNumber: CASE,
      label: '',
      createdAt: '',
      expiresAt: '2026-01-03T00:00:00Z',
      channels: ['https' as const],
      maxBytes: 100,
      bytesUploaded: 60,
    };
    expect(tokenAllows(t, 'https', now, 40)).toBeUndefined();
    expect(tokenAllows(t, 'https', now, 41)).toBe('quota');
    expect(tokenAllows(t, 'sftp', now)).toBe('channel');
    expect(tokenAllows(t, 'https', new Date('2026-01-03T00:00:00Z'))).toBe('expired');
  });

  it('parses durations and refuses anything else', () => {
    expect(parseDuration('72d')).toBe(72 * 86_400);
    expect(parseDuration('90m')).toBe(5400);
    expect(() => parseDuration('3 days')).toThrow(/not a duration/);
  });
});

describe('RedisTokenStore', () => {
  it('keeps only the hash, lists several tokens per case, and authenticates each', async () => {
    const a = await tokens.create(CASE, { label: 'router-7', expiresInSeconds: parseDuration('72d') });
    const b = await tokens.create(CASE, { label: 'alice', expiresInSeconds: 3600, channels: ['https'], maxBytes: 1000 });
    const raw = JSON.stringify(await redis.hgetall(`${env.config.redisPrefix}:upload-tokens:${CASE}`));
    expect(raw).not.toContain(a.secret);
    expect(raw).not.toContain(b.secret.slice(4));
    expect(raw).toContain(hashSecret(a.secret));
    expect((await tokens.list(CASE)).map((t) => t.label).sort()).toEqual(['alice', 'router-7']);
    expect(a.token.expiresAt).toBe('2027-02-10T00:00:00.000Z');
    expect((await tokens.authenticate(CASE, a.secret))?.id).toBe(a.token.id);
    expect((await tokens.authenticate(CASE, b.secret))?.label).toBe('alice');
    expect(await tokens.authenticate(CASE, 'cdu_wrong')).toBeNull();
    expect(await tokens.authenticate('612345679', a.secret)).toBeNull();
    expect(await tokens.caseOf(b.secret)).toBe(CASE);
    expect(await tokens.caseOf(newSecret())).toBeUndefined();
  });

  it('records last use and bytes uploaded', async () => {
    const { secret, token } = await tokens.create(CASE, { label: 'use', expiresInSeconds: 3600 });
    await tokens.recordUse(CASE, token.id, 1234);
    await tokens.recordUse(CASE, token.id, 1);
    const seen = await tokens.authenticate(CASE, secret);
    expect(seen).toMatchObject({ bytesUploaded: 1235, lastUsedAt: clock.toISOString() });
  });

  it('revoked tokens stop at once; --all revokes every one', async () => {
    const { secret, token } = await tokens.create(CASE, { label: 'gone', expiresInSeconds: 3600 });
    expect(await tokens.revoke(CASE, token.id)).toBe(1);
    expect(await tokens.authenticate(CASE, secret)).toBeNull();
    expect(await tokens.caseOf(secret)).toBeUndefined();
    const other = await tokens.create(CASE, { label: 'x', expiresInSeconds: 3600 });
    expect(await tokens.revoke(CASE, 'all')).toBeGreaterThan(1);
    expect(await tokens.authenticate(CASE, other.secret)).toBeNull();
    expect(await tokens.list(CASE)).toEqual([]);
  });

  it('every token of a case stops working when the case closes, and works again when it reopens', async () => {
    const { secret } = await tokens.create(CASE, { label: 'c', expiresInSeconds: 3600 });
    await registry.close(CASE);
    expect(await tokens.authenticate(CASE, secret)).toBeNull();
    await expect(tokens.create(CASE, { expiresInSeconds: 60 })).rejects.toThrow(/closed/);
    await registry.reopen(CASE);
    expect(await tokens.authenticate(CASE, secret)).not.toBeNull();
  });
});
