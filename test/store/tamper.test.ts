import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { ErrorCode } from '../../src/errors.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { testMasterKeys } from '../helpers/env.js';
import { CHUNK, freshStorePerTest, contentStart, expectCode, mutateFile, objectPath, randomSource, readAll, readUntilError, storeWith } from './helpers.js';

let config: Config;
let store: EncryptedStore;
const RECORD = CHUNK + 16;
freshStorePerTest((fresh) => ({ store, config } = fresh));

/** An object of 2½ chunks whose plaintext we keep. */
async function sample(name = 'obj'): Promise<{ id: string; path: string; plain: Buffer }> {
  const plain = Buffer.concat([Buffer.alloc(CHUNK, 0x41), Buffer.alloc(CHUNK, 0x42), Buffer.alloc(CHUNK / 2, 0x43)]);
  const { id } = await store.put('cases/612345678', Readable.from([plain]), { filename: 'f.zip' }, { name });
  return { id, path: objectPath(config, id), plain };
}

describe('damage is detected with a typed error, never returned as data', () => {
  it('a flipped bit in a chunk fails that chunk before any of its plaintext is emitted', async () => {
    const { id, path, plain } = await sample();
    await mutateFile(path, (b) => {
      b[contentStart(b) + RECORD + 100]! ^= 0x01;
      return b;
    });
    const { emitted, error } = await readUntilError(store, id);
    expectCode(error, ErrorCode.ObjectCorrupt);
    // chunk 0 is good and may be delivered; nothing of chunk 1 may be
    expect(emitted.length).toBeLessThanOrEqual(CHUNK);
    expect(emitted.equals(plain.subarray(0, emitted.length))).toBe(true);
  });

  it('two swapped chunks are detected', async () => {
    const { id, path } = await sample();
    await mutateFile(path, (b) => {
      const s = contentStart(b);
      const first = Buffer.from(b.subarray(s, s + RECORD));
      b.copy(b, s, s + RECORD, s + 2 * RECORD);
      first.copy(b, s + RECORD);
      return b;
    });
    expectCode((await readUntilError(store, id)).error, ErrorCode.ObjectCorrupt);
  });

  it('a chunk taken from another object (same size and position) is detected', async () => {
    const a = await sample('a');
    const b = await sample('b');
    const donor = await readFile(b.path);
    await mutateFile(a.path, (buf) => {
      donor.copy(buf, contentStart(buf), contentStart(donor), contentStart(donor) + RECORD);
      return buf;
    });
    expectCode((await readUntilError(store, a.id)).error, ErrorCode.ObjectCorrupt);
  });

  it('an object file copied under another id does not decrypt (the id is bound)', async () => {
    const a = await sample('a');
    const b = await sample('b');
    await writeFile(b.path, await readFile(a.path));
    expectCode((await readUntilError(store, b.id)).error, ErrorCode.ObjectCorrupt);
  });

  for (const [label, cut] of [
    ['by one byte', (size: number) => size - 1],
    ['at a chunk boundary (final chunk and trailer dropped)', (size: number, start: number) => start + 2 * RECORD],
    ['in the middle of a chunk', (size: number, start: number) => start + RECORD + 5000],
    ['inside the header', () => 30],
    ['to nothing', () => 0],
  ] as const) {
    it(`a file truncated ${label} fails with OBJECT_TRUNCATED`, async () => {
      const { id, path } = await sample();
      const blob = await readFile(path);
      await truncate(path, cut(blob.length, contentStart(blob)));
      expectCode((await readUntilError(store, id)).error, ErrorCode.ObjectTruncated);
      await expect(store.head(id)).rejects.toMatchObject({ code: ErrorCode.ObjectTruncated });
    });
  }

  it('appended bytes are detected', async () => {
    const { id, path } = await sample();
    await mutateFile(path, (b) => Buffer.concat([b, Buffer.alloc(RECORD)]));
    const { error } = await readUntilError(store, id);
    expectCode(error, ErrorCode.ObjectCorrupt, ErrorCode.ObjectTruncated);
  });

  it('a flipped bit in the meta section fails head and get', async () => {
    const { id, path } = await sample();
    await mutateFile(path, (b) => {
      b[contentStart(b) - 20]! ^= 0x80;
      return b;
    });
    await expect(store.head(id)).rejects.toMatchObject({ code: ErrorCode.ObjectCorrupt });
    expectCode((await readUntilError(store, id)).error, ErrorCode.ObjectCorrupt);
  });

  it('any single flipped bit anywhere fails the read with a typed error and no foreign bytes (property)', async () => {
    const { id, path, plain } = await sample();
    const original = await readFile(path);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: original.length * 8 - 1 }), async (bit) => {
        const damaged = Buffer.from(original);
        damaged[bit >> 3]! ^= 1 << (bit & 7);
        await mutateFile(path, () => damaged);
        const { emitted, error } = await readUntilError(store, id);
        expectCode(error, ErrorCode.ObjectCorrupt, ErrorCode.ObjectTruncated, ErrorCode.KeyUnknown);
        expect(emitted.equals(plain.subarray(0, emitted.length))).toBe(true);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});

describe('master keys', () => {
  it('a different key under the same id is KEY_UNKNOWN, not garbage', async () => {
    const { id } = await sample();
    const other = storeWith(config, testMasterKeys('k1'));
    await expect(other.get(id)).rejects.toMatchObject({ code: ErrorCode.KeyUnknown });
    await expect(other.head(id)).rejects.toMatchObject({ code: ErrorCode.KeyUnknown });
  });

  it("a ring without the object's key id is KEY_UNKNOWN", async () => {
    const { id } = await sample();
    const other = storeWith(config, testMasterKeys('k2'));
    await expect(other.get(id)).rejects.toMatchObject({ code: ErrorCode.KeyUnknown });
  });

  it('an older key later in the ring still reads its objects', async () => {
    const { id, plain } = await sample();
    const rotated = storeWith(config, `${testMasterKeys('k2')},${config.masterKeys}`);
    expect((await readAll(rotated, id)).equals(plain)).toBe(true);
    expect((await rotated.head(id)).keyId).toBe('k1');
  });
});

describe('nothing readable at rest', () => {
  it('neither content nor meta nor the master key appear in the stored bytes', async () => {
    const secret = Buffer.from('SECRET-PLAINTEXT-MARKER '.repeat(5000));
    const metaMarker = 'META-MARKER-quarterly-report.zip';
    await store.put('cases/612345678', Readable.from([secret]), { filename: metaMarker, from: 'alice@example.com' }, { name: 'x' });
    await store.put('spool', randomSource(10).stream, { note: metaMarker });
    const keyBytes = Buffer.from(config.masterKeys!.split(':')[1]!, 'base64');
    for (const file of await filesUnder(join(config.dataDir, 'objects'))) {
      const raw = await readFile(file);
      expect(raw.includes('SECRET-PLAINTEXT')).toBe(false);
      expect(raw.includes(metaMarker)).toBe(false);
      expect(raw.includes('alice@example.com')).toBe(false);
      expect(raw.includes(keyBytes)).toBe(false);
    }
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  expect(out.length).toBeGreaterThan(0);
  return out;
}
