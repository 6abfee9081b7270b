import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { expectVerdictsUnderFlipsAndCuts } from './manifest.js';

// Hostile 7z files, made by mutating 7-Zip's own output: no tool writes a lying header on purpose.
const dir = join(import.meta.dirname, '../../fixtures/archives/7z');
const fixture = (file: string): Buffer => readFileSync(join(dir, file));

function headerOf(archive: Buffer): { start: number; header: Buffer } {
  const start = 32 + Number(archive.readBigUInt64LE(12));
  return { start, header: archive.subarray(start, start + Number(archive.readBigUInt64LE(20))) };
}

/** The archive with its header replaced and both CRCs made right again, so only the lie remains. */
function withHeader(archive: Buffer, header: Buffer, claimedSize = header.length): Buffer {
  const { start } = headerOf(archive);
  const out = Buffer.concat([archive.subarray(0, start), header]);
  out.writeBigUInt64LE(BigInt(claimedSize), 20);
  out.writeUInt32LE(crc32(header), 28);
  out.writeUInt32LE(crc32(out.subarray(12, 32)), 8);
  return out;
}

function splice(buffer: Buffer, at: number, remove: number, insert: number[]): Buffer {
  return Buffer.concat([buffer.subarray(0, at), Buffer.from(insert), buffer.subarray(at + remove)]);
}

async function expectCorrupt(bytes: Buffer, error: RegExp): Promise<void> {
  const result = await verify({ buffer: bytes });
  expect(result).toMatchObject({ format: '7z', verdict: 'reject', reason: 'corrupt' });
  expect(String(result.details.problem)).toMatch(error);
}

describe('7z with lying headers', () => {
  it('refuses a NextHeaderSize past the end of the file', async () => {
    const archive = fixture('aes.7z');
    await expectCorrupt(withHeader(archive, headerOf(archive).header, 2 ** 40), /outside the/);
  });

  it('refuses a broken start-header CRC and a broken header CRC', async () => {
    const archive = Buffer.from(fixture('aes.7z'));
    archive[8]! ^= 1;
    await expectCorrupt(archive, /start header CRC/);
    const tampered = Buffer.from(fixture('aes.7z'));
    tampered[tampered.length - 3]! ^= 1;
    await expectCorrupt(tampered, /header CRC mismatch/);
  });

  it('refuses a folder count larger than the header, without allocating it', async () => {
    const archive = fixture('aes-plainheader.7z');
    const { header } = headerOf(archive);
    const at = header.indexOf(Buffer.from([0x07, 0x0b, 0x01, 0x00])) + 2; // UnpackInfo, Folder, numFolders = 1
    await expectCorrupt(withHeader(archive, splice(header, at, 1, [0xe0, 0xff, 0xff, 0xff])), /count \d+ exceeds the header/);
  });

  it('refuses to decode a compressed header that claims 1 GiB, at once', async () => {
    const archive = fixture('aes.7z');
    const { header } = headerOf(archive);
    const lzma = header.indexOf(Buffer.from([0x03, 0x01, 0x01, 0x05]));
    const sizeAt = lzma + 4 + 5 + 1; // after the coder id, property size, 5 properties and kCodersUnpackSize
    expect(header[sizeAt - 1]).toBe(0x0c);
    await expectCorrupt(withHeader(archive, splice(header, sizeAt, 2, [0xf0, 0x00, 0x00, 0x00, 0x40])), /exceeds the \d+-byte bound/);
  });

  it('decodes a compressed header that lies within the bound, and finds it does not match its CRC', async () => {
    const archive = fixture('aes.7z');
    const { header } = headerOf(archive);
    const sizeAt = header.indexOf(Buffer.from([0x03, 0x01, 0x01, 0x05])) + 10;
    await expectCorrupt(withHeader(archive, splice(header, sizeAt, 2, [0xe0, 0x00, 0x00, 0x20])), /does not decode to its CRC/);
  });

  it('refuses packed streams that run into the header', async () => {
    const archive = fixture('aes.7z');
    const { header } = headerOf(archive);
    expect(header.subarray(0, 2)).toEqual(Buffer.from([0x17, 0x06])); // EncodedHeader, PackInfo, packPos …
    await expectCorrupt(withHeader(archive, splice(header, 2, 2, [0x80, 0xff])), /past the header/);
  });

  it('gives every mutated or cut fixture a verdict in bounded time, never an exception', async () => {
    const files = readdirSync(dir).filter((file) => file.endsWith('.7z'));
    await expectVerdictsUnderFlipsAndCuts(files.map((file) => fixture(file)));
  });
});

describe("7z files' properties, for an archive that would be accepted", () => {
  const archive = fixture('aes-plainheader.7z');
  const { header } = headerOf(archive);
  const dummy = header.indexOf(Buffer.from([0x19, 0x03, 0x00, 0x00, 0x00, 0x11])); // 7-Zip's 3-byte alignment filler, then the names

  it("accepts 7-Zip's own zero filler", async () => {
    expect(dummy).toBeGreaterThan(0);
    expect(await verify({ buffer: archive })).toMatchObject({ verdict: 'accept' });
  });

  it('refuses filler that holds bytes, and a comment property', async () => {
    for (const [edit, problem] of [
      [[0x19, 0x03, 0x61, 0x62, 0x63], /filler \(kDummy\) of 3 bytes/],
      [[0x16, 0x03, 0x61, 0x62, 0x63], /a comment, 3 bytes/],
    ] as const) {
      const result = await verify({ buffer: withHeader(archive, splice(header, dummy, 5, [...edit])) });
      expect(result).toMatchObject({ format: '7z', verdict: 'reject', reason: 'plaintext-metadata' });
      expect(String(result.details.problem)).toMatch(problem);
    }
  });

  it('refuses bytes between the packed streams and the header', async () => {
    const { start } = headerOf(archive);
    const gap = Buffer.concat([archive.subarray(0, start), Buffer.from('hidden'), header]);
    gap.writeBigUInt64LE(BigInt(start - 32 + 6), 12);
    gap.writeUInt32LE(crc32(gap.subarray(12, 32)), 8);
    const result = await verify({ buffer: gap });
    expect(result).toMatchObject({ reason: 'unaccounted-bytes' });
    expect(String(result.details.problem)).toMatch(/6 bytes at offsets \d+–\d+, before the header/);
  });
});
