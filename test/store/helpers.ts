import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, expect } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { isCasedropError } from '../../src/errors.js';
import { parseMasterKeys } from '../../src/keys/ring.js';
import { createLogger } from '../../src/log.js';
import type { BlobBackend } from '../../src/store/backend.js';
import { CHUNK_SIZE } from '../../src/store/format.js';
import { FsBlobBackend } from '../../src/store/fs-backend.js';
import { EncryptedStore } from '../../src/store/store.js';
import type { ObjectStore } from '../../src/store/types.js';
import { testConfig } from '../helpers/env.js';

/** the chunk size new objects are written with */
export const CHUNK = CHUNK_SIZE;
export const silent = createLogger('silent');

/** Each test of the file gets an initialised store in a data dir of its own, removed after it; `use` receives both. */
export function freshStorePerTest(use: (fresh: { store: EncryptedStore; config: Config }) => void): void {
  let cleanup: () => Promise<void> = async () => undefined;
  beforeEach(async () => {
    const env = testConfig();
    cleanup = env.cleanup;
    const store = storeWith(env.config);
    await store.init();
    use({ store, config: env.config });
  });
  afterEach(() => cleanup());
}

export function storeWith(config: Config, masterKeys = config.masterKeys ?? '', backend?: BlobBackend): EncryptedStore {
  return new EncryptedStore(backend ?? new FsBlobBackend(config.dataDir), parseMasterKeys(masterKeys), silent);
}

export function objectPath(config: Config, id: string): string {
  return new FsBlobBackend(config.dataDir).pathOf(id);
}

/**
 * Random content of `size` bytes in pieces of varying length (so chunk boundaries fall inside,
 * at and across pieces). Fresh buffers each time: a stream may still hold the previous one.
 * `digest()` gives the SHA-256 of what was produced.
 */
export function randomSource(size: number, pieceSizes = [1, 1000, 70_000, CHUNK, 200_000, 4096]) {
  const hash = createHash('sha256');
  async function* gen(): AsyncGenerator<Buffer> {
    let left = size;
    for (let i = 0; left > 0; i++) {
      const n = Math.min(left, pieceSizes[i % pieceSizes.length] ?? CHUNK);
      const piece = randomBytes(n);
      hash.update(piece);
      left -= n;
      yield piece;
    }
  }
  return { stream: Readable.from(gen()), digest: () => hash.digest('hex') };
}

export async function readAll(store: ObjectStore, id: string): Promise<Buffer> {
  return buffer(await store.get(id));
}

/** Reads as far as it can; returns what was emitted before the failure and the failure itself. */
export async function readUntilError(store: ObjectStore, id: string): Promise<{ emitted: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of await store.get(id)) parts.push(c as Buffer);
    return { emitted: Buffer.concat(parts), error: undefined };
  } catch (error) {
    return { emitted: Buffer.concat(parts), error };
  }
}

export function expectCode(err: unknown, ...codes: string[]): void {
  expect(isCasedropError(err), `expected a CasedropError, got ${String(err)}`).toBe(true);
  expect(codes).toContain((err as { code: string }).code);
}

export async function mutateFile(path: string, change: (b: Buffer) => Buffer): Promise<void> {
  await writeFile(path, change(await readFile(path)));
}

/** Where the content chunks start in a stored object (see src/store/format.ts). */
export function contentStart(blob: Buffer): number {
  return 24 + blob.readUInt32BE(8) + blob.readUInt32BE(12);
}
