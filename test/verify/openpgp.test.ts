import { describe, expect, it } from 'vitest';
import { expectManifestVerdict, fixtureBytes, readManifest, verifyBothWays } from './manifest.js';

const manifest = readManifest('openpgp');

describe('OpenPGP fixtures made by gpg and openpgp.js', () => {
  it('cover every verdict the family can give', () => {
    const reasons = new Set(manifest.map((entry) => entry.reason));
    expect([...reasons].sort()).toEqual(['corrupt', 'encrypted', 'no-integrity', 'pgp-unknown-key', 'unencrypted', 'weak-cipher']);
  });

  for (const entry of manifest) {
    it(`${entry.file} (${entry.command}) → ${entry.verdict} ${entry.reason}`, async () => {
      const { name, bytes } = fixtureBytes('openpgp', entry);
      const { fromBuffer, fromPath } = await verifyBothWays(name, bytes);
      expectManifestVerdict(fromBuffer, entry);
      expectManifestVerdict(fromPath, entry);
    });
  }
});
