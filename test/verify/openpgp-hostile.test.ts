import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armor, enums } from 'openpgp';
import { afterAll, describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { expectVerdictsUnderFlipsAndCuts } from './manifest.js';

// Hostile OpenPGP built around gpg's own SKESK (no tool writes absurd lengths on purpose).
const dir = join(import.meta.dirname, '../../fixtures/archives/openpgp');
const gpgC = readFileSync(join(dir, 'c-default.gpg'));
const skesk = gpgC.subarray(0, 2 + gpgC[1]!); // new-format tag 3, one-octet length
const work = mkdtempSync(join(tmpdir(), 'casedrop-openpgp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A SEIPD v1 packet header with a four-octet length (as for a large file), body to follow. */
function seipdHeader(bodyLength: number): Buffer {
  const header = Buffer.from([0xd2, 0xff, 0, 0, 0, 0]);
  header.writeUInt32BE(bodyLength, 2);
  return header;
}

/** A hang fails by the test timeout; the speed of verdicts is npm run bench:verify's to measure. */
async function expectCorrupt(bytes: Buffer, error: RegExp): Promise<void> {
  const result = await verify({ buffer: bytes });
  expect(result).toMatchObject({ format: 'openpgp', verdict: 'reject', reason: 'corrupt' });
  expect(String(result.details.problem)).toMatch(error);
}

describe('OpenPGP with absurd lengths', () => {
  it('refuses a session-key packet claiming 4 GiB', async () => {
    await expectCorrupt(Buffer.concat([Buffer.from([0xc3, 0xff, 0xff, 0xff, 0xff, 0xff]), skesk.subarray(2)]), /session-key packet of 4294967295 bytes/);
  });

  it('refuses encrypted data whose length runs past the end', async () => {
    await expectCorrupt(Buffer.concat([skesk, seipdHeader(0xffffffff), Buffer.from([1]), randomBytes(100)]), /truncated/);
  });

  it('stops walking endless one-byte partial chunks', async () => {
    const chunks = Buffer.alloc(1_000_000);
    for (let i = 0; i < chunks.length; i += 2) chunks[i] = 0xe0; // partial length 2^0, then one body byte
    await expectCorrupt(Buffer.concat([skesk, Buffer.from([0xd2, 0xe0, 0x01]), chunks]), /more than 65536 partial-length chunks/);
  });

  it('finds a partial-length body that ends without its last chunk', async () => {
    const chunks = Buffer.alloc(2000);
    for (let i = 0; i < chunks.length; i += 2) chunks[i] = 0xe0;
    await expectCorrupt(Buffer.concat([skesk, Buffer.from([0xd2, 0xe0, 0x01]), chunks]), /truncated/);
  });

  it('stops after a thousand packets', async () => {
    const marker = Buffer.from([0xca, 0x03, 0x50, 0x47, 0x50]); // marker packet "PGP"
    await expectCorrupt(Buffer.concat(Array.from({ length: 2000 }, () => marker)), /more than 1024 packets/);
  });

  it('refuses data after the encrypted packet, saying so', async () => {
    for (const tail of [skesk, Buffer.from('trailing text\n')]) {
      const result = await verify({ buffer: Buffer.concat([gpgC, tail]) });
      expect(result).toMatchObject({ format: 'openpgp', verdict: 'reject', reason: 'unaccounted-bytes' });
      expect(String(result.details.problem)).toMatch(/after the encrypted data/);
    }
  });
});

describe('OpenPGP of attachment size', () => {
  // 20 MiB of ciphertext behind gpg's SKESK: what `gpg -c` makes of a 20 MiB log, structurally.
  const body = Buffer.concat([Buffer.from([1]), randomBytes(20 * 1024 * 1024)]);
  const binary = Buffer.concat([skesk, seipdHeader(body.length), body]);

  // Its time is measured in the bench (npm run bench:verify), not here: a shared machine would trip a limit.
  it('reads a 20 MiB binary message through the randomness test and accepts it', async () => {
    const path = join(work, 'big.gpg');
    writeFileSync(path, binary);
    expect(await verify({ path })).toMatchObject({ verdict: 'accept', cipher: 'AES-256' });
  });

  /** gpg's framing: the body in 8 KiB partial-length chunks, the last one with a four-octet length */
  function partialChunks(data: Buffer): Buffer {
    const parts: Buffer[] = [];
    let at = 0;
    for (; data.length - at > 8192; at += 8192) parts.push(Buffer.from([0xed]), data.subarray(at, at + 8192));
    const last = Buffer.from([0xff, 0, 0, 0, 0]);
    last.writeUInt32BE(data.length - at, 1);
    parts.push(last, data.subarray(at));
    return Buffer.concat([skesk, Buffer.from([0xd2]), ...parts]);
  }

  it('reads 8 KiB partial-length chunks through the randomness test, a sentence across a chunk seam refused', async () => {
    expect(await verify({ buffer: partialChunks(body) })).toMatchObject({ verdict: 'accept', cipher: 'AES-256' });
    const planted = Buffer.from(body);
    const at = 1280 * 8192 - 20; // past the first MiB read, straddling a chunk header in the file
    const sentence = 'The root password is hunter2; see /etc/shadow on app-7.';
    planted.write(sentence, at, 'latin1');
    planted[at - 1] = planted[at + sentence.length] = 0x80; // so random neighbours cannot lengthen the run
    const result = await verify({ buffer: partialChunks(planted) });
    expect(result).toMatchObject({ verdict: 'reject', reason: 'not-ciphertext' });
    expect(String(result.details.problem)).toMatch(`${sentence.length} printable characters in a row at offset ${at} `);
  });

  /** an armored message of the body as `armor` writes it, re-wrapped at `width` with `eol` */
  function armored(data: Buffer, width: number, eol: string): string {
    const lines = data.toString('base64').match(new RegExp(`.{1,${width}}`, 'g'))!;
    return ['-----BEGIN PGP MESSAGE-----', '', ...lines, '-----END PGP MESSAGE-----', ''].join(eol);
  }

  it('accepts armor of any line width and CRLF line ends, and refuses a stray character deep inside', async () => {
    const message = Buffer.concat([skesk, seipdHeader(body.length), body]);
    for (const [width, eol] of [
      [64, '\n'],
      [70, '\r\n'],
      [4000, '\n'],
    ] as const)
      expect(await verify({ buffer: Buffer.from(armored(message, width, eol), 'latin1') }), `${width}`).toMatchObject({ verdict: 'accept' });
    const text = armored(message, 64, '\n');
    const deep = 3 * 1024 * 1024 + 17; // past the first reads, inside a line
    for (const stray of ['*', '\r', ' ', '-', '='])
      await expectCorrupt(Buffer.from(text.slice(0, deep) + stray + text.slice(deep + 1), 'latin1'), /not base64|checksum|END/);
  });

  it('decodes a 27 MiB armored message as a stream, memory flat', async () => {
    const path = join(work, 'big.asc');
    writeFileSync(path, armor(enums.armor.message, binary));
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const result = await verify({ path });
    clearInterval(sampler);
    expect(result).toMatchObject({ verdict: 'accept', cipher: 'AES-256', details: { armored: true } });
    expect(peak - baseline).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('OpenPGP fixtures mutated at random', () => {
  it('always get a verdict in bounded time, never an exception', async () => {
    const files = readdirSync(dir).filter((file) => /\.(gpg|pgp|asc)$/.test(file));
    await expectVerdictsUnderFlipsAndCuts(files.map((file) => readFileSync(join(dir, file))));
  });
});
