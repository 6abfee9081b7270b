import { open, type FileHandle } from 'node:fs/promises';
import type { VerifyInput } from '../types.js';

/**
 * Random access to the bytes under test. Verifiers read only the parts they need (a central
 * directory, packet headers), so a 20 MB attachment on disk is never loaded whole, and one in
 * memory is never copied.
 */
export interface ByteSource {
  readonly size: number;
  /**
   * Up to `length` bytes from `offset`; shorter only at the end of the source. A source may read
   * them into `into` (when it is long enough) and return a view of it, valid only until the next
   * read into the same buffer: a scan reuses one buffer instead of allocating (and page-faulting in)
   * fresh memory for every read, which cost more CPU than the scan itself.
   */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openSource(input: VerifyInput): Promise<ByteSource> {
  if ('buffer' in input) return bufferSource(input.buffer);
  if ('source' in input) return input.source;
  return fileSource(await open(input.path, 'r'));
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: buffer.length,
    read: async (offset, length) => buffer.subarray(clamp(offset, buffer.length), clamp(offset + length, buffer.length)),
    close: async () => undefined,
  };
}

async function fileSource(handle: FileHandle): Promise<ByteSource> {
  const { size } = await handle.stat();
  return {
    size,
    read: async (offset, length, into) => {
      const start = clamp(offset, size);
      const wanted = clamp(offset + length, size) - start;
      // only the bytes read are returned, so the buffer need not be zeroed first
      const out = into && into.length >= wanted ? into : Buffer.allocUnsafe(wanted);
      const { bytesRead } = await handle.read(out, 0, wanted, start);
      return out.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

function clamp(value: number, size: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(value, size);
}
