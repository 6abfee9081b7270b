import { MessageChannel } from 'node:worker_threads';

/**
 * Frees a big buffer's memory now instead of at the next garbage collection. V8 collects a dead
 * Buffer's memory only when it collects the Buffer object, and it starts a collection for external
 * memory only after ~64 MiB more of it: with 20 MB messages, each thread of the worker carried
 * up to three dead messages' copies on top of the live one. Handing the memory to a message port
 * that is closed at once detaches it from the Buffer (every view of it then has length 0) and
 * frees it.
 *
 * Only for a buffer that owns all of its memory and that nothing reads any more — no pending
 * write, no other view; anything else is left to the collector (returns false).
 */
export const RELEASE_MIN_BYTES = 256 * 1024;

/** Node's Buffer pool slab (Buffer.poolSize): a slice of it is never whole, but stay clear of it */
const POOL_SLAB_BYTES = 8 * 1024 + 1;

export function releaseBuffer(buffer: Buffer, minBytes = RELEASE_MIN_BYTES): boolean {
  const memory = buffer.buffer;
  if (!(memory instanceof ArrayBuffer) || buffer.byteLength < Math.max(minBytes, POOL_SLAB_BYTES)) return false;
  if (buffer.byteOffset !== 0 || buffer.byteLength !== memory.byteLength) return false;
  detach(memory);
  return true;
}

/**
 * Frees the memory that a parsed message's files are views of: the buffer the message was read
 * into, over whose base64 lines big files were decoded (parse.ts), or a file's own buffer. Only
 * for a job's own parse result once nothing reads any of it; memory too small to be more than a
 * shared pool slab is left to the collector. Returns how many buffers were freed.
 */
export function releaseViewed(views: readonly Buffer[]): number {
  const memories = new Set<ArrayBuffer>();
  for (const view of views) {
    const memory = view.buffer;
    if (memory instanceof ArrayBuffer && memory.byteLength >= RELEASE_MIN_BYTES) memories.add(memory);
  }
  memories.forEach(detach);
  return memories.size;
}

// a port whose peer is closed: what is posted to it is dropped, its transferred memory with it
const drain = new MessageChannel();
drain.port2.close();

function detach(memory: ArrayBuffer): void {
  drain.port1.postMessage(null, [memory]);
}
