import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { stopHashThread } from '../../src/store/hash-thread.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { CHUNK, freshStorePerTest, randomSource, readAll } from './helpers.js';

const MiB = 1 << 20;
// the writer hands the hash thread 1 MiB staging buffers (src/store/writer.ts)
const STAGE = MiB;
const PIECE = 64 * 1024;

let config: Config;
let store: EncryptedStore;
freshStorePerTest((fresh) => ({ store, config } = fresh));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `mib` MiB in 64 KiB pieces, then `after()` is awaited before the last MiB */
async function* bodyWith(mib: number, after: () => Promise<void>): AsyncGenerator<Buffer> {
  for (let i = 0; i < (mib - 1) * (MiB / PIECE); i++) yield randomBytes(PIECE);
  await after();
  for (let i = 0; i < MiB / PIECE; i++) yield randomBytes(PIECE);
}

async function tempFiles(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else found.push(e.name);
    }
  };
  await walk(config.dataDir);
  return found;
}

describe('hashing large objects on the hash thread', () => {
  for (const size of [STAGE - 1, STAGE, STAGE + 1, 2 * STAGE, 2 * STAGE + CHUNK + 5, 5 * STAGE + 12_345]) {
    it(`stores ${size} bytes with the SHA-256 of the plaintext`, async () => {
      const src = randomSource(size, [1, 1000, 70_000, CHUNK, 200_000, 4096, 3 * STAGE]);
      const put = await store.put('spool', src.stream, {});
      expect(put.size).toBe(size);
      expect(put.sha256).toBe(src.digest());
      expect(sha(await readAll(store, put.id))).toBe(put.sha256);
    });
  }

  it('hashes objects written at the same time each on its own', async () => {
    const srcs = [3, 4, 5].map((mib) => randomSource(mib * MiB + 7, [CHUNK, 333_333]));
    const puts = await Promise.all(srcs.map((s) => store.put('spool', s.stream, {})));
    puts.forEach((put, i) => expect(put.sha256).toBe(srcs[i]!.digest()));
  });

  it('fails the object when the thread dies, leaves no object, and the next object gets a new thread', async () => {
    await expect(store.put('spool', bodyWith(4, stopHashThread), {})).rejects.toThrow(/hash thread/);
    expect(await tempFiles()).toEqual([]);
    const src = randomSource(3 * MiB, [CHUNK]);
    const put = await store.put('spool', src.stream, {});
    expect(put.sha256).toBe(src.digest());
  });

  it('fails the object when its body fails and keeps hashing others', async () => {
    const broken = bodyWith(3, () => Promise.reject(new Error('client went away')));
    await expect(store.put('spool', broken, {})).rejects.toThrow('client went away');
    const src = randomSource(3 * MiB, [CHUNK]);
    expect((await store.put('spool', src.stream, {})).sha256).toBe(src.digest());
  });
});
