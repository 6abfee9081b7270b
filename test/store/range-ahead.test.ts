import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { BlobBackend, BlobReader } from '../../src/store/backend.js';
import { FsBlobBackend } from '../../src/store/fs-backend.js';
import type { EncryptedStore } from '../../src/store/store.js';
import { testConfig } from '../helpers/env.js';
import { CHUNK, storeWith } from './helpers.js';

/**
 * The range reader reads ahead for a reader going front to back (a verifier walking a whole
 * archive): one backend read per MiB instead of one per chunk, each issued before it is needed.
 * Seeks and short runs never read ahead, so a hostile archive cannot multiply the bytes read.
 * A whole-object read (a download) has the next MiB on its way while it deciphers this one.
 */
class CountingBackend extends FsBlobBackend {
  reads = 0;
  bytes = 0;

  override async openRead(key: string): Promise<BlobReader | undefined> {
    const reader = await super.openRead(key);
    if (!reader) return undefined;
    return {
      size: reader.size,
      version: reader.version,
      read: (position, length) => {
        this.reads++;
        this.bytes += length;
        return reader.read(position, length);
      },
      close: () => reader.close(),
    };
  }
}

let env: { config: Config; cleanup: () => Promise<void> };
let backend: CountingBackend;
let store: EncryptedStore;
const SIZE = 8 * 1024 * 1024 + 12_345;
let plain: Buffer;
let id: string;

beforeEach(async () => {
  env = testConfig();
  backend = new CountingBackend(env.config.dataDir);
  store = storeWith(env.config, env.config.masterKeys ?? '', backend as BlobBackend);
  await store.init();
  plain = randomBytes(SIZE);
  id = (await store.put('cases/612345678', Readable.from([plain]), {})).id;
});
afterEach(() => env.cleanup());

async function readAlong(step: number): Promise<{ out: Buffer; reads: number }> {
  const range = await store.openRange(id);
  const before = backend.reads;
  const parts: Buffer[] = [];
  for (let at = 0; at < SIZE; at += step) parts.push(await range.read(at, step));
  const reads = backend.reads - before;
  await range.close();
  return { out: Buffer.concat(parts), reads };
}

describe('range reader', () => {
  it('reads a whole object front to back in about one backend read per MiB', async () => {
    const { out, reads } = await readAlong(1 << 20);
    expect(out.equals(plain)).toBe(true);
    // one per chunk without reading ahead: 33 here
    expect(reads).toBeLessThanOrEqual(Math.ceil(SIZE / (1 << 20)) + 2);
  });

  it('returns the right bytes for reads of any size, ending inside chunks', async () => {
    for (const step of [1000, 100_003, CHUNK + 1]) {
      const { out } = await readAlong(step);
      expect(out.equals(plain)).toBe(true);
    }
  });

  it('a reader that seeks reads no more than the chunks it touches, however it alternates', async () => {
    const range = await store.openRange(id);
    const before = backend.bytes;
    let touched = 0;
    // a hostile pattern: a short sequential run (two reads), then a seek, over and over
    for (let at = 0; at + 64 < SIZE; at += 3 * CHUNK + 100) {
      expect((await range.read(at, 32)).equals(plain.subarray(at, at + 32))).toBe(true);
      expect((await range.read(at + 32, 32)).equals(plain.subarray(at + 32, at + 64))).toBe(true);
      touched++;
    }
    await range.close();
    // each touched chunk is read once; reading ahead here would fetch a MiB per seek
    expect(backend.bytes - before).toBeLessThanOrEqual(touched * (CHUNK + 16));
  });
});

describe('whole-object read', () => {
  it('has the next span on its way before the first one is deciphered, and returns every byte', async () => {
    const before = backend.reads;
    const stream = await store.get(id);
    const opening = backend.reads - before; // header and trailer
    await once(stream, 'readable');
    // the first MiB and, already, the one after it
    expect(backend.reads - before - opening).toBe(2);
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    expect(Buffer.concat(parts).equals(plain)).toBe(true);
  });
});
