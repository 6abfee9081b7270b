import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RangeReader } from '../store/range.js';
import type { ObjectStore } from '../store/types.js';

/**
 * A file whose content is several store objects in order (the segments of a resumed upload).
 * The case's file list holds a small manifest naming them, so finishing a 1 TiB upload costs no
 * copy: each segment stays the encrypted object it was written as.
 */
export type PartStore = ObjectStore & { openRange(id: string): Promise<RangeReader> };

/** The plaintext of the parts, one after the other, each authenticated as it is read. */
export function readParts(store: ObjectStore, ids: readonly string[]): Readable {
  return Readable.from(
    (async function* () {
      for (const id of ids) {
        const stream = await store.get(id);
        try {
          for await (const chunk of stream) yield chunk as Buffer;
        } finally {
          stream.destroy();
        }
      }
    })(),
  );
}

/** Size and SHA-256 of the whole, by one read pass (a hash cannot be carried across requests). */
export async function digestParts(store: ObjectStore, ids: readonly string[]): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of readParts(store, ids)) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex') };
}

/** Random access across the parts, for the verifiers. */
export async function openPartsRange(store: PartStore, ids: readonly string[]): Promise<RangeReader> {
  const readers: RangeReader[] = [];
  try {
    for (const id of ids) readers.push(await store.openRange(id));
  } catch (err) {
    await Promise.all(readers.map((r) => r.close()));
    throw err;
  }
  const starts: number[] = [];
  let size = 0;
  for (const r of readers) {
    starts.push(size);
    size += r.size;
  }
  return {
    size,
    async read(offset, length) {
      const end = Math.min(size, offset + length);
      const out: Buffer[] = [];
      for (let i = 0; i < readers.length; i++) {
        const from = Math.max(offset, starts[i]!);
        const to = Math.min(end, starts[i]! + readers[i]!.size);
        if (from < to) out.push(await readers[i]!.read(from - starts[i]!, to - from));
      }
      return Buffer.concat(out);
    },
    close: async () => void (await Promise.all(readers.map((r) => r.close()))),
  };
}
