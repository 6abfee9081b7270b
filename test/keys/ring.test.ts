import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { generateMasterKey } from '../../src/keys/generate.js';
import { parseMasterKeys } from '../../src/keys/ring.js';

const b64 = () => randomBytes(32).toString('base64');

describe('parseMasterKeys', () => {
  it('parses one or more keys; the first is active', () => {
    const ring = parseMasterKeys(` new:${b64()} , old:${b64()},older.1:${b64()}`);
    expect(ring.active.id).toBe('new');
    expect(ring.ids).toEqual(['new', 'old', 'older.1']);
    expect(ring.get('old')?.key.length).toBe(32);
    expect(ring.get('missing')).toBeUndefined();
    expect(ring.active.check.length).toBe(8);
  });

  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['no colon', b64()],
    ['empty id', `:${b64()}`],
    ['bad id characters', `a/b:${b64()}`],
    ['16 bytes', `k:${randomBytes(16).toString('base64')}`],
    ['33 bytes', `k:${randomBytes(33).toString('base64')}`],
    ['not base64', `k:${'!'.repeat(44)}`],
    ['base64url', `k:${randomBytes(32).toString('base64url')}_`],
    ['duplicate id', `k:${b64()},k:${b64()}`],
  ];
  for (const [label, value] of bad) {
    it(`refuses ${label} with CONFIG_INVALID naming the variable, without echoing the key`, () => {
      let err: unknown;
      try {
        parseMasterKeys(value);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: ErrorCode.ConfigInvalid });
      const message = (err as Error).message;
      expect(message).toMatch(/^CASEDROP_MASTER_KEYS: /);
      for (const part of value.split(/[,:]/).filter((p) => p.length >= 16)) expect(message).not.toContain(part);
    });
  }
});

describe('generateMasterKey', () => {
  it('prints id:base64 that parses back into a 32-byte key with a dated id', () => {
    const line = generateMasterKey(new Date('2026-11-22T10:00:00Z'));
    expect(line).toMatch(/^k20261122-[0-9a-f]{6}:[A-Za-z0-9+/]{43}=$/);
    const ring = parseMasterKeys(line);
    expect(ring.active.id).toBe(line.split(':')[0]);
    expect(ring.active.key.length).toBe(32);
  });

  it('makes a different key every time', () => {
    expect(generateMasterKey()).not.toBe(generateMasterKey());
  });
});
