import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { storeWriteBytes } from '../../src/metrics.js';
import { DIRECT_FROM_BYTES, DirectTail, directWrites, SLOT_BYTES } from '../../src/store/direct-io.js';
import { FsBlobBackend } from '../../src/store/fs-backend.js';
import { FdOps } from '../../src/store/quick-fs.js';
import { testConfig } from '../helpers/env.js';
import { randomSource, readAll, storeWith } from './helpers.js';

/**
 * Large objects past their first 4 MiB are written with O_DIRECT from aligned slots
 * (src/store/direct-io.ts). The data dir is the OS temp dir, on the machine's disk: the object must
 * read back byte for byte whatever its length (padding cut off) and however its pieces fall, and
 * the bytes must really have gone the direct way (the metric), or through the page cache where
 * direct writes are switched off, refused or out of slots.
 */
let env: { config: Config; cleanup: () => Promise<void> };
beforeEach(() => {
  env = testConfig();
  directWrites.refused = false;
});
afterEach(() => env.cleanup());

async function written(): Promise<{ direct: number; pageCache: number }> {
  const { values } = await storeWriteBytes.get();
  const of = (path: string) => values.find((v) => v.labels.path === path)?.value ?? 0;
  return { direct: of('direct'), pageCache: of('page-cache') };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('direct writes of large objects', () => {
  it('an object of an unaligned length reads back whole, and its bytes past 4 MiB went direct', async () => {
    const store = storeWith(env.config);
    await store.init();
    const before = await written();
    const size = DIRECT_FROM_BYTES + 3 * SLOT_BYTES + 12_345;
    const src = randomSource(size, [1, 65_536, 333_333, 4095, 1 << 20]);
    const put = await store.put('cases/612345678', src.stream, {});
    expect(put.sha256).toBe(src.digest());
    const back = await readAll(store, put.id);
    expect(back.length).toBe(size);
    expect(sha(back)).toBe(put.sha256);
    const after = await written();
    // ciphertext past the first 4 MiB, in whole aligned slots (the last one padded, then cut off)
    expect(after.direct - before.direct).toBeGreaterThanOrEqual(size - DIRECT_FROM_BYTES);
    expect(after.pageCache).toBe(before.pageCache);
    expect(await readdir(join(env.config.dataDir, 'objects', '.tmp'))).toEqual([]);
  });

  it('with direct writes switched off, the same object goes through the page cache', async () => {
    const backend = new FsBlobBackend(env.config.dataDir, { directIo: false });
    const store = storeWith(env.config, env.config.masterKeys ?? '', backend);
    await store.init();
    const before = await written();
    const size = DIRECT_FROM_BYTES + 2 * SLOT_BYTES + 7;
    const src = randomSource(size, [65_536, 100_003]);
    const put = await store.put('cases/612345678', src.stream, {});
    expect(sha(await readAll(store, put.id))).toBe(src.digest());
    const after = await written();
    expect(after.direct).toBe(before.direct);
    expect(after.pageCache - before.pageCache).toBeGreaterThan(0);
  });

  it('objects beyond the slots free at once go through the page cache; slots come back after commit and abort', async () => {
    const backend = new FsBlobBackend(env.config.dataDir);
    await backend.init();
    const big = randomBytes(DIRECT_FROM_BYTES + SLOT_BYTES);
    // 20 writers past the threshold at once: 16 slots, so four of them must write through the page cache
    const writers = await Promise.all(Array.from({ length: 20 }, () => backend.createWriteTemp()));
    const before = await written();
    await Promise.all(writers.map((w) => w.write([big])));
    const during = await written();
    expect(during.pageCache - before.pageCache).toBeGreaterThan(0);
    await Promise.all(writers.slice(0, 10).map((w, i) => w.commit(`cases/612345678/f${i}`)));
    await Promise.all(writers.slice(10).map((w) => w.abort()));
    for (let i = 0; i < 10; i++) {
      const r = await backend.openRead(`cases/612345678/f${i}`);
      expect(sha(await r!.read(0, big.length + 1))).toBe(sha(big));
      await r!.close();
    }
    // every slot is free again: 16 more writers all go direct
    const again = await Promise.all(Array.from({ length: 16 }, () => backend.createWriteTemp()));
    const mid = await written();
    await Promise.all(again.map((w) => w.write([big])));
    const end = await written();
    expect(end.pageCache).toBe(mid.pageCache);
    expect(end.direct - mid.direct).toBeGreaterThanOrEqual(16 * SLOT_BYTES);
    await Promise.all(again.map((w) => w.abort()));
    expect(await readdir(backend.tempDir)).toEqual([]);
  });

  it('a direct write the file system refuses (EINVAL) is written through the page cache instead', async () => {
    const path = join(env.config.dataDir, 'refused.bin');
    const buffered = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
    const direct = openSync(path, constants.O_WRONLY | constants.O_DIRECT);
    const ops = new FdOps();
    // an offset off the disk's block alignment: every file system that honours O_DIRECT refuses it
    const tail = DirectTail.start(direct, buffered, 100, ops)!;
    const data = randomBytes(SLOT_BYTES + 5000);
    await tail.append([data.subarray(0, 3)]);
    await tail.append([data.subarray(3)]);
    const size = await tail.finish(() => undefined);
    await tail.settled();
    tail.release();
    closeSync(direct);
    closeSync(buffered);
    expect(size).toBe(100 + data.length);
    expect(directWrites.refused).toBe(true);
    // the padded tail was not cut back here (finish's truncate is the caller's): compare what was written
    expect(
      readFileSync(path)
        .subarray(100, 100 + data.length)
        .equals(data),
    ).toBe(true);
  });
});
