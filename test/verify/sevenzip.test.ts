import { describe, expect, it } from 'vitest';
import { expectManifestVerdict, fixtureBytes, readManifest, verifyBothWays } from './manifest.js';

const manifest = readManifest('7z');

describe('7z fixtures made by 7-Zip', () => {
  it('cover every verdict the family can give', () => {
    const reasons = new Set(manifest.map((entry) => entry.reason));
    expect([...reasons].sort()).toEqual(['corrupt', 'encrypted', 'partial-encryption', 'unencrypted']);
  });

  for (const entry of manifest) {
    it(`${entry.file} (${entry.command}) → ${entry.verdict} ${entry.reason}`, async () => {
      const { name, bytes } = fixtureBytes('7z', entry);
      const { fromBuffer, fromPath } = await verifyBothWays(name, bytes);
      expectManifestVerdict(fromBuffer, entry);
      expectManifestVerdict(fromPath, entry);
    });
  }
});
