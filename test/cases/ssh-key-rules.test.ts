import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_PUB_FILE_BYTES, offerMatches, parsePublicKey, type StoredSshKey } from '../../src/cases/ssh-key-rules.js';

describe('SSH key rules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'casedrop-keyrules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keygen = (name: string, ...args: string[]) => {
    execFileSync('ssh-keygen', ['-q', '-N', '', '-C', 'c', '-f', join(dir, name), ...args]);
    const pub = parsePublicKey(readFileSync(join(dir, `${name}.pub`), 'utf8'));
    const priv = ssh2.utils.parseKey(readFileSync(join(dir, name)));
    if (priv instanceof Error) throw priv;
    const stored: StoredSshKey = {
      id: 'k1',
      caseNumber: '612345678',
      label: '',
      type: pub.type,
      fingerprint: pub.fingerprint,
      addedAt: '',
      blob: pub.blob.toString('base64'),
    };
    return { pub, priv, stored };
  };

  it('refuses a text far longer than a .pub file before parsing it', () => {
    expect(() => parsePublicKey(`ssh-ed25519 ${'A'.repeat(MAX_PUB_FILE_BYTES)}`)).toThrow(/one line of a few KB/);
  });

  it('checks the signature, not only the key: a signature over other data is refused', () => {
    const { pub, priv, stored } = keygen('ed', '-t', 'ed25519');
    const data = Buffer.from('session data to sign');
    const signature = priv.sign(data);
    expect(offerMatches(stored, { algo: pub.type, data: pub.blob, signed: { blob: data, signature } })).toBe(true);
    expect(offerMatches(stored, { algo: pub.type, data: pub.blob, signed: { blob: Buffer.from('other data'), signature } })).toBe(false);
    const other = keygen('ed2', '-t', 'ed25519');
    // someone else's key signing for itself proves nothing about this one
    expect(offerMatches(stored, { algo: pub.type, data: other.pub.blob, signed: { blob: data, signature: other.priv.sign(data) } })).toBe(false);
  });

  it('wants SHA-2 signatures from RSA keys', () => {
    const { pub, priv, stored } = keygen('rsa', '-t', 'rsa', '-b', '2048');
    const data = Buffer.from('x');
    expect(offerMatches(stored, { algo: 'ssh-rsa', data: pub.blob, signed: { blob: data, signature: priv.sign(data, 'sha256'), hashAlgo: 'sha256' } })).toBe(
      true,
    );
    const sha1 = priv.sign(data, 'sha1');
    expect(Buffer.isBuffer(sha1) && priv.verify(data, sha1, 'sha1')).toBe(true);
    expect(offerMatches(stored, { algo: 'ssh-rsa', data: pub.blob, signed: { blob: data, signature: sha1 } })).toBe(false);
  });
});
