import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/index.js';
import { expectManifestVerdict, fixtureBytes, readManifest, verifyBothWays } from './manifest.js';

const manifest = readManifest('zip');
const fixture = (file: string): Buffer =>
  Buffer.from(
    fixtureBytes(
      'zip',
      manifest.find((entry) => entry.file === file)!,
    ).bytes,
  );

describe('zip fixtures made by 7-Zip and Info-ZIP', () => {
  it('cover every zip verdict the policy knows', () => {
    const reasons = new Set(manifest.map((entry) => entry.reason));
    expect([...reasons].sort()).toEqual([
      'corrupt',
      'encrypted',
      'partial-encryption',
      'plaintext-metadata',
      'unaccounted-bytes',
      'unencrypted',
      'weak-zipcrypto',
    ]);
  });

  for (const entry of manifest) {
    it(`${entry.file} → ${entry.verdict} ${entry.reason} (${entry.command})`, async () => {
      const { name, bytes } = fixtureBytes('zip', entry);
      const { fromBuffer, fromPath } = await verifyBothWays(name, bytes);
      expectManifestVerdict(fromBuffer, entry);
      expectManifestVerdict(fromPath, entry);
      expect(fromPath.details).toEqual(fromBuffer.details);
    });
  }
});

describe('zip details', () => {
  it('leaves directory entries plain and still judges every file, the empty one included', async () => {
    const result = await verify({ buffer: fixture('aes256.zip') });
    expect(result.details).toMatchObject({ files: 3, directories: 2, aes: 3, plain: 0, zip64: false });
  });

  it('finds the end record behind a 60 KB comment, and refuses the comment as readable text', async () => {
    const result = await verify({ buffer: fixture('aes256-comment60k.zip') });
    expect(result.reason).toBe('plaintext-metadata');
    expect(String(result.details.problem)).toMatch(/the archive comment holds 5\d{4} bytes of readable text/);
  });

  it('accepts a short label as the archive comment, and accounts for every byte', async () => {
    const bytes = fixture('aes256-comment-label.zip');
    const result = await verify({ buffer: bytes });
    expect(result.details).toMatchObject({ commentBytes: 26 });
    expect((result.details.encryptedBytes as number) + (result.details.metadataBytes as number)).toBe(bytes.length);
  });

  it('reads ZIP64 end records and 65,538 entries', async () => {
    const result = await verify({ buffer: fixture('aes256-zip64-many.zip.gz') });
    expect(result.details).toMatchObject({ zip64: true, entries: 65_538, files: 1 });
    expect((await verify({ buffer: fixture('zip64-zipcrypto.zip') })).details.zip64).toBe(true);
  });

  it('refuses bytes no entry accounts for (a plain zip glued before an AES one)', async () => {
    const result = await verify({ buffer: fixture('plain-then-aes256.zip') });
    expect(result.reason).toBe('unaccounted-bytes');
    expect(String(result.details.problem)).toMatch(/bytes at offsets 0–\d+, before entry \d+, belong to no entry/);
  });

  it('names the unencrypted files of a partly encrypted archive', async () => {
    const result = await verify({ buffer: fixture('partial-7zip.zip') });
    expect(result.details.plainFiles).toEqual(['extra.txt']);
    expect(result.advice).toContain('Not encrypted: extra.txt.');
  });
});

/** Every offset where `pattern` occurs. */
function offsetsOf(bytes: Buffer, pattern: Buffer): number[] {
  const found: number[] = [];
  for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) found.push(at);
  return found;
}

const AES_FIELD = Buffer.from('0199070002004145', 'hex'); // id 0x9901, length 7, AE-2, "AE"
const LOCAL = Buffer.from('504b0304', 'hex');
const CENTRAL = Buffer.from('504b0102', 'hex');

describe('zip variants made by editing 7-Zip output', () => {
  it('reports AE-1 (7-Zip writes only AE-2)', async () => {
    const bytes = fixture('aes256.zip');
    for (const at of offsetsOf(bytes, AES_FIELD)) bytes[at + 4] = 1;
    const result = await verify({ buffer: bytes });
    expect([result.verdict, result.cipher]).toEqual(['accept', 'WinZip AES-256 (AE-1)']);
  });

  it('refuses an AES strength in a local header that differs from the central one', async () => {
    const bytes = fixture('aes256.zip');
    bytes[offsetsOf(bytes, AES_FIELD)[0]! + 8] = 1; // first occurrence is in a local header
    expect((await verify({ buffer: bytes })).reason).toBe('corrupt');
  });

  it('refuses a local header that claims no encryption for an AES entry', async () => {
    const bytes = fixture('aes256.zip');
    const local = offsetsOf(bytes, LOCAL).find((at) => bytes.readUInt16LE(at + 8) === 99)!;
    bytes.writeUInt16LE(bytes.readUInt16LE(local + 6) & ~1, local + 6);
    const result = await verify({ buffer: bytes });
    expect(result.reason).toBe('corrupt');
    expect(String(result.details.problem)).toMatch(/encryption flags differ/);
  });

  it('refuses PKWARE strong encryption (flag bit 6) with its own reason', async () => {
    const bytes = fixture('aes256.zip');
    for (const at of [...offsetsOf(bytes, LOCAL), ...offsetsOf(bytes, CENTRAL)]) {
      const flagsAt = at + (bytes.readUInt32LE(at) === 0x02014b50 ? 8 : 6);
      bytes.writeUInt16LE(bytes.readUInt16LE(flagsAt) | 0x40, flagsAt);
    }
    const result = await verify({ buffer: bytes });
    expect([result.verdict, result.reason]).toEqual(['reject', 'zip-strong-encryption']);
    expect(result.advice).toContain('7z a -tzip -mem=AES256');
  });

  it('refuses an archive whose comment hides a second end record', async () => {
    const bytes = fixture('aes256-comment200.zip');
    const eocd = bytes.length - 200 - 22;
    const planted = Buffer.from(bytes.subarray(eocd, eocd + 22));
    planted.writeUInt16LE(0, 20);
    planted.copy(bytes, bytes.length - 22);
    const result = await verify({ buffer: bytes });
    expect(result.reason).toBe('corrupt');
    expect(String(result.details.problem)).toMatch(/hidden in the archive comment/);
  });

  it('refuses an entry count the central directory has no room for', async () => {
    const bytes = fixture('aes256.zip');
    const eocd = bytes.length - 22;
    bytes.writeUInt16LE(0xfffe, eocd + 8);
    bytes.writeUInt16LE(0xfffe, eocd + 10);
    const result = await verify({ buffer: bytes });
    expect(result.reason).toBe('corrupt');
    expect(String(result.details.problem)).toMatch(/claims 65534 entries/);
  });

  it('refuses two entries that point at the same data', async () => {
    const bytes = fixture('aes256.zip');
    const [first, second] = offsetsOf(bytes, CENTRAL);
    bytes.writeUInt32LE(bytes.readUInt32LE(first! + 42), second! + 42);
    expect((await verify({ buffer: bytes })).reason).toBe('corrupt');
  });
});
