import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { base64DecodedLength } from '../../src/verify/openssl/base64.js';
import { judgeLength } from '../../src/verify/openssl/judge.js';
import { bufferSource, type ByteSource } from '../../src/verify/common/source.js';
import { expectManifestVerdict, familyDir, fixtureBytes, readManifest, verifyBothWays } from './manifest.js';

const manifest = readManifest('openssl');
const fixture = (file: string): Buffer => readFileSync(join(familyDir('openssl'), file));

describe('openssl enc fixtures', () => {
  it('cover accept, weak cipher, corrupt and headerless output, binary and base64', () => {
    const kinds = new Set(manifest.map((entry) => `${entry.reason}/${entry.file.split('.').pop()}`));
    for (const kind of [
      'encrypted/enc',
      'encrypted/b64',
      'weak-cipher/enc',
      'weak-cipher/b64',
      'corrupt/enc',
      'corrupt/b64',
      'not-an-archive/enc',
      'not-an-archive/b64',
    ])
      expect(kinds).toContain(kind);
  });

  for (const entry of manifest) {
    it(`${entry.file} → ${entry.verdict} ${entry.reason} (${entry.command})`, async () => {
      const { name, bytes } = fixtureBytes('openssl', entry);
      const { fromBuffer, fromPath } = await verifyBothWays(name, bytes);
      expectManifestVerdict(fromBuffer, entry);
      expectManifestVerdict(fromPath, entry);
    });
  }
});

describe('the length rule', () => {
  it.each([
    [16 + 1104, 'encrypted'],
    [16 + 16, 'encrypted'],
    [16 + 1096, 'weak-cipher'],
    [16 + 1092, 'corrupt'],
    [16, 'corrupt'],
    [9, 'corrupt'],
  ])('%i bytes → %s', (length, reason) => {
    expect(judgeLength(length, 'binary').reason).toBe(reason);
  });
});

/** A source that counts what is read, to show a large file is not read whole. */
function countingSource(bytes: Buffer): ByteSource & { bytesRead: () => number } {
  const inner = bufferSource(bytes);
  let total = 0;
  return {
    size: inner.size,
    read: async (offset, length) => {
      const out = await inner.read(offset, length);
      total += out.length;
      return out;
    },
    close: inner.close,
    bytesRead: () => total,
  };
}

describe('base64 output', () => {
  const text = fixture('aes-256-cbc.b64').toString('latin1');
  const lines = text.trimEnd().split('\n');

  it('survives a mail gateway turning line ends into CRLF', async () => {
    const crlf = Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');
    const result = await verify({ buffer: crlf });
    expect([result.reason, result.details.bytes]).toEqual(['encrypted', Buffer.from(text, 'base64').length]);
  });

  it('gets the length of a 20 MB file from a few reads, without decoding it', async () => {
    // openssl's own lines, the middle ones repeated to 20 MB: same layout as `openssl enc -a` of a big file
    const middle = lines.slice(1, -1);
    const repeats = Math.ceil(20_000_000 / 65 / middle.length);
    const big = Buffer.from([lines[0], ...Array.from({ length: repeats }, () => middle).flat(), lines.at(-1), ''].join('\n'), 'latin1');
    const source = countingSource(big);
    expect(await base64DecodedLength(source)).toBe(Buffer.from(big.toString('latin1'), 'base64').length);
    expect(source.bytesRead()).toBeLessThan(16 * 1024);
  });

  it('counts character by character when the lines are not regular', async () => {
    const irregular = [...lines];
    irregular[3] = irregular[3]!.slice(4); // four characters fewer: still whole base64 groups
    const bytes = Buffer.from(irregular.join('\n') + '\n', 'latin1');
    expect(await base64DecodedLength(bufferSource(bytes))).toBe(Buffer.from(bytes.toString('latin1'), 'base64').length);
  });

  it('refuses a byte that is not base64 inside the text', async () => {
    const bytes = Buffer.from(text, 'latin1');
    bytes[200] = 0x2a; // '*'
    const result = await verify({ buffer: bytes });
    expect([result.format, result.reason]).toEqual(['openssl-enc', 'corrupt']);
  });
});
