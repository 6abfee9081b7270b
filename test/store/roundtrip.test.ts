import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import type { EncryptedStore } from '../../src/store/store.js';
import type { Config } from '../../src/config/schema.js';
import { CHUNK, freshStorePerTest, expectCode, objectPath, randomSource, readAll } from './helpers.js';

let store: EncryptedStore;
let config: Config;
freshStorePerTest((fresh) => ({ store, config } = fresh));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('round trips', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK]) {
    it(`stores and returns ${size} bytes`, async () => {
      const src = randomSource(size);
      const put = await store.put('spool', src.stream, { size });
      expect(put.size).toBe(size);
      expect(put.sha256).toBe(src.digest());
      const back = await readAll(store, put.id);
      expect(back.length).toBe(size);
      expect(sha(back)).toBe(put.sha256);
    });
  }

  it('seals a digest the caller already computed as given, without hashing the body again', async () => {
    const body = randomSource(3 * 1024 * 1024).stream;
    const claimed = sha(Buffer.from('not the body'));
    const put = await store.put('cases/612345678', body, {}, { sha256: claimed });
    // had the writer hashed the 3 MiB itself, it would have sealed that digest instead
    expect(put.sha256).toBe(claimed);
    expect((await store.head(put.id)).sha256).toBe(claimed);
    expectCode(await store.put('spool', Readable.from([Buffer.from('x')]), {}, { sha256: 'ABC' }).catch((e: unknown) => e), ErrorCode.UsageInvalid);
  });

  it('streams 50 MB through and back with the right SHA-256', async () => {
    const src = randomSource(50 * 1024 * 1024, [1 << 20, 333_333]);
    const put = await store.put('cases/612345678', src.stream, {});
    expect(put.sha256).toBe(src.digest());
    const hash = createHash('sha256');
    let n = 0;
    for await (const c of await store.get(put.id)) {
      hash.update(c as Buffer);
      n += (c as Buffer).length;
    }
    expect(n).toBe(50 * 1024 * 1024);
    expect(hash.digest('hex')).toBe(put.sha256);
  }, 60_000);

  it('accepts any split of the body into pieces (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3 * CHUNK + 7 }),
        fc.array(fc.integer({ min: 1, max: 2 * CHUNK }), { minLength: 1, maxLength: 6 }),
        async (bytes, cuts) => {
          const body = Buffer.from(bytes);
          const pieces: Buffer[] = [];
          for (let at = 0, i = 0; at < body.length; i++) pieces.push(body.subarray(at, (at += cuts[i % cuts.length] ?? 1)));
          const put = await store.put('spool', Readable.from(pieces), {});
          expect((await readAll(store, put.id)).equals(body)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it('accepts an async iterable of Uint8Array and strings in a Readable', async () => {
    async function* body() {
      yield new Uint8Array([104, 105]);
    }
    const put = await store.put('spool', body(), {});
    expect((await readAll(store, put.id)).toString()).toBe('hi');
    const put2 = await store.put('spool', Readable.from(['hé', 'llo']), {});
    expect((await readAll(store, put2.id)).toString()).toBe('héllo');
  });
});

describe('chunk sizes', () => {
  const chunkLog2Of = async (id: string) => (await readFile(objectPath(config, id)))[5];

  it('writes new objects in 256 KiB chunks', async () => {
    const put = await store.put('spool', randomSource(10).stream, {});
    expect(await chunkLog2Of(put.id)).toBe(18);
  });

  // objects written before 2026-12 have 64 KiB chunks; the header names the size, and the format allows 1 KiB to 16 MiB
  for (const chunkLog2 of [16, 10, 24]) {
    const chunk = 1 << chunkLog2;
    it(`reads objects of ${chunk} B chunks, whole and by range`, async () => {
      const content = randomBytes(3 * chunk + 5);
      const put = await store.put('spool', Readable.from([content]), {}, { chunkLog2 });
      expect(await chunkLog2Of(put.id)).toBe(chunkLog2);
      expect((await readAll(store, put.id)).equals(content)).toBe(true);
      const range = await store.openRange(put.id);
      for (const [at, n] of [
        [chunk - 3, 7],
        [2 * chunk, chunk + 5],
        [0, 1],
      ] as const) {
        expect((await range.read(at, n)).equals(content.subarray(at, at + n))).toBe(true);
      }
      await range.close();
    }, 30_000);
  }

  it('refuses a chunk size the format cannot hold', async () => {
    for (const chunkLog2 of [9, 25, 17.5]) {
      expectCode(await store.put('spool', Readable.from([Buffer.from('x')]), {}, { chunkLog2 }).catch((e: unknown) => e), ErrorCode.UsageInvalid);
    }
  });
});

describe('head, meta, list, exists, delete', () => {
  it('head returns size, hash, key id, creation time and the meta given to put', async () => {
    const meta = { filename: 'diag.7z', verdict: { ok: true, cipher: 'AES-256' }, n: 3 };
    const put = await store.put('cases/612345678', Readable.from([Buffer.from('abc')]), meta);
    const info = await store.head(put.id);
    expect(info).toMatchObject({ id: put.id, size: 3, sha256: put.sha256, keyId: 'k1', meta });
    expect(Date.now() - Date.parse(info.createdAt)).toBeLessThan(60_000);
  });

  it('lists ids under a prefix, sorted, and only committed objects', async () => {
    await store.put('cases/612345678', Readable.from(['b']), {}, { name: 'b' });
    await store.put('cases/612345678', Readable.from(['a']), {}, { name: 'a' });
    await store.put('cases/612345679', Readable.from(['c']), {}, { name: 'c' });
    await store.put('spool', Readable.from(['s']), {}, { name: 's1' });
    expect(await store.list('cases/612345678/')).toEqual(['cases/612345678/a', 'cases/612345678/b']);
    expect(await store.list('cases/')).toEqual(['cases/612345678/a', 'cases/612345678/b', 'cases/612345679/c']);
    expect(await store.list('cases/6123456')).toHaveLength(3);
    expect(await store.list('')).toHaveLength(4);
    expect(await store.list('outcomes/')).toEqual([]);
  });

  it('exists and delete; delete is idempotent and the object is gone for get/head', async () => {
    const put = await store.put('spool', Readable.from(['x']), {});
    expect(await store.exists(put.id)).toBe(true);
    await store.delete(put.id);
    await store.delete(put.id);
    expect(await store.exists(put.id)).toBe(false);
    await expect(store.get(put.id)).rejects.toMatchObject({ code: ErrorCode.ObjectNotFound });
    await expect(store.head(put.id)).rejects.toMatchObject({ code: ErrorCode.ObjectNotFound });
    expect(await store.list('spool/')).toEqual([]);
  });

  it('a named put is idempotent: a retry replaces the object, never duplicates it', async () => {
    const first = await store.put('outcomes', Readable.from(['first']), { try: 1 }, { name: 'SPOOL1' });
    const second = await store.put('outcomes', Readable.from(['second']), { try: 2 }, { name: 'SPOOL1' });
    expect(second.id).toBe(first.id);
    expect(await store.list('outcomes/')).toEqual(['outcomes/SPOOL1']);
    expect((await readAll(store, first.id)).toString()).toBe('second');
    expect((await store.head(first.id)).meta).toEqual({ try: 2 });
  });

  it('unnamed puts get distinct time-ordered ids', async () => {
    const a = await store.put('spool', Readable.from(['1']), {});
    const b = await store.put('spool', Readable.from(['2']), {});
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^spool\/[0-9A-Z]{26}$/);
  });
});

describe('resources and odd input', () => {
  const openFds = async () => (await readdir('/proc/self/fd')).length;

  it('a read stream abandoned before or during reading releases its file', async () => {
    const put = await store.put('spool', randomSource(5 * CHUNK).stream, {});
    const before = await openFds();
    for (let i = 0; i < 20; i++) {
      const untouched = await store.get(put.id);
      untouched.destroy();
      const partial = await store.get(put.id);
      for await (const _ of partial) break;
    }
    // a destroyed stream closes its file on a later tick
    await vi.waitFor(async () => expect(await openFds()).toBeLessThanOrEqual(before + 1), { timeout: 10_000, interval: 20 });
  });

  it('meta that is not JSON is a usage error and stores nothing', async () => {
    await expect(store.put('spool', Readable.from(['x']), { n: 1n }, { name: 'm' })).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    expect(await store.exists('spool/m')).toBe(false);
  });
});

describe('names', () => {
  const bad = ['..', '../etc', '/abs', 'a//b', '.hidden', 'a/./b', 'x.cdo', 'sp ace', 'ü', 'a\\b', ''];
  for (const ns of bad) {
    it(`refuses namespace ${JSON.stringify(ns)}`, async () => {
      await expect(store.put(ns, Readable.from(['x']), {})).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    });
  }
  for (const name of ['..', '.', 'a/b', '../x', '.tmp', 'n.cdo', 'new\nline']) {
    it(`refuses name ${JSON.stringify(name)}`, async () => {
      await expect(store.put('spool', Readable.from(['x']), {}, { name })).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    });
  }
  it('refuses bad ids and prefixes on every read operation', async () => {
    for (const call of [
      () => store.get('../x'),
      () => store.head('spool'),
      () => store.exists('/etc/passwd'),
      () => store.delete('spool/..'),
      () => store.list('../'),
    ]) {
      try {
        await call();
        expect.unreachable();
      } catch (err) {
        expectCode(err, ErrorCode.UsageInvalid);
      }
    }
  });
  it('accepts the namespaces the stages use', async () => {
    for (const ns of ['spool', 'cases/612345678', 'outcomes']) {
      const put = await store.put(ns, Readable.from(['x']), {}, { name: 'file-1.7z' });
      expect(put.id).toBe(`${ns}/file-1.7z`);
    }
  });
});
