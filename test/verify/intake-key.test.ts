import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import type { IntakeKey } from '../../src/verify/types.js';

// The key pair make-openpgp.sh generated as "casedrop's intake key"; e-unknown.gpg is to another key.
const dir = join(import.meta.dirname, '../../fixtures/archives/openpgp');
const fixture = (file: string): { path: string } => ({ path: join(dir, file) });
const publicKeyArmored = readFileSync(join(dir, 'intake-key.pub.asc'), 'utf8');
const privateKeyArmored = readFileSync(join(dir, 'intake-key.sec.asc'), 'utf8');
const publicOnly: IntakeKey = { publicKeyArmored };
const keyPair: IntakeKey = { publicKeyArmored, privateKeyArmored };

describe('OpenPGP to casedrop intake key', () => {
  it('is refused when no intake key is configured', async () => {
    const result = await verify(fixture('e-intake.gpg'));
    expect(result).toMatchObject({ verdict: 'reject', reason: 'pgp-unknown-key' });
    expect(result.advice).toContain('gpg -c');
  });

  it('is accepted on structure with only the public key configured, integrity unchecked', async () => {
    const result = await verify(fixture('e-intake.gpg'), { intakeKey: publicOnly });
    expect(result).toMatchObject({
      verdict: 'accept',
      reason: 'encrypted',
      details: { intakeKey: true, integrity: 'not checked (no intake secret key configured)' },
    });
    expect(result.cipher).toBeUndefined();
  });

  it('is decrypted in memory with the secret key: integrity verified and the hidden cipher learnt', async () => {
    for (const file of ['e-intake.gpg', 'e-intake.asc']) {
      const result = await verify(fixture(file), { intakeKey: keyPair });
      expect(result).toMatchObject({
        format: 'openpgp',
        verdict: 'accept',
        reason: 'encrypted',
        cipher: 'AES-256',
        details: { intakeKey: true, integrity: 'verified' },
      });
    }
  });

  it('finds a tampered ciphertext corrupt, which the structure alone cannot show', async () => {
    expect(await verify(fixture('e-intake-tampered.gpg'), { intakeKey: publicOnly })).toMatchObject({ verdict: 'accept' });
    const result = await verify(fixture('e-intake-tampered.gpg'), { intakeKey: keyPair });
    expect(result).toMatchObject({ verdict: 'reject', reason: 'corrupt', details: { integrity: 'failed' } });
  });

  it('stops inflating a decompression bomb at the bound, after the MDC has passed', async () => {
    const before = process.memoryUsage().rss;
    const result = await verify(fixture('e-intake-bomb.gpg'), { intakeKey: keyPair });
    expect(result).toMatchObject({ verdict: 'accept', details: { integrity: expect.stringMatching(/^verified \(payload inflates beyond/) } });
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
  });

  it('finds a tampered bomb corrupt: the MDC fails before anything is inflated', async () => {
    const bytes = readFileSync(join(dir, 'e-intake-bomb.gpg'));
    bytes[bytes.length - 30]! ^= 1;
    const result = await verify({ buffer: bytes }, { intakeKey: keyPair });
    expect(result).toMatchObject({ verdict: 'reject', reason: 'corrupt', details: { integrity: 'failed' } });
  });

  it('still refuses a message to another key, with the key id in the advice', async () => {
    const result = await verify(fixture('e-unknown.gpg'), { intakeKey: keyPair });
    expect(result).toMatchObject({ verdict: 'reject', reason: 'pgp-unknown-key' });
    expect(result.advice).toMatch(/encrypted to [0-9A-F]{16}/);
  });

  it('accepts a passphrase message as before when a key is configured', async () => {
    expect(await verify(fixture('c-default.gpg'), { intakeKey: keyPair })).toMatchObject({ verdict: 'accept', cipher: 'AES-256' });
  });
});
