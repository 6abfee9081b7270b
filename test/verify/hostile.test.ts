import { describe, expect, it } from 'vitest';
import { fixtureBytes, readManifest, verifyBothWays } from './manifest.js';

// Issue 13's attack classes, made by fixtures/archives/make-hostile.sh: real tools' output with
// plaintext where the verdict did not use to look, or behind a label that says encrypted.
const manifest = readManifest('hostile');

describe('hostile files that hide plaintext', () => {
  it('cover every class of the issue with its own reason', () => {
    expect(new Set(manifest.map((entry) => entry.reason))).toEqual(
      new Set(['plaintext-metadata', 'not-ciphertext', 'unaccounted-bytes', 'weak-kdf', 'corrupt']),
    );
    expect(new Set(manifest.map((entry) => entry.format))).toEqual(new Set(['zip', '7z', 'openpgp', 'openssl-enc']));
  });

  for (const entry of manifest) {
    it(`${entry.file} → ${entry.reason} (${entry.command.slice(0, 120)})`, async () => {
      const { name, bytes } = fixtureBytes('hostile', entry);
      const { fromBuffer, fromPath } = await verifyBothWays(name, bytes);
      for (const result of [fromBuffer, fromPath]) {
        expect({ format: result.format, verdict: result.verdict, reason: result.reason }).toEqual({
          format: entry.format,
          verdict: 'reject',
          reason: entry.reason,
        });
        // the refusal says where: an offset, an entry, a packet, a line, a comment or a header
        expect(String(result.details.problem)).toMatch(/offset|entry|packet|line|comment|rounds|S2K|bytes|record/);
      }
    });
  }
});
