import { MessageChannel } from 'node:worker_threads';

/**
 * Frees a buffer's memory now instead of at a later garbage collection. V8 frees a dead Buffer's
 * memory only with the Buffer object, and starts a collection for such (external) memory only
 * after tens of MiB more of it: a large upload churns through 64 KiB pieces (every HTTP body
 * piece is a fresh copy, every sealed chunk a fresh output), a 20 MB message leaves its reads and
 * copies behind, and that garbage was most of each role's peak RSS — and the full collections it
 * caused were most of the upload role's CPU. Transferring the memory to a port whose peer is
 * closed detaches it from the Buffer (every view of it then has length 0) and frees it; Node 20
 * has no ArrayBuffer.prototype.transfer.
 *
 * Only for memory that nothing reads any more — no pending write, no other view, not the
 * caller's to keep. A buffer that is not the whole of its memory (a slice, a piece of Node's
 * shared pool) is left to the collector, as is one under `minBytes`.
 */
export function release(buffer: Uint8Array, minBytes = MIN_BYTES): boolean {
  if (buffer.byteLength < Math.max(minBytes, POOL_SLAB_BYTES) || !ownsAllOfItsMemory(buffer)) return false;
  detach(buffer.buffer as ArrayBuffer);
  return true;
}

/** The view is the whole of a (non-shared) ArrayBuffer: freeing or moving that memory touches nothing else. */
export function ownsAllOfItsMemory(view: Uint8Array): boolean {
  return view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
}

/** Smaller buffers are not worth a call: they cost little while they wait for the collector. */
const MIN_BYTES = 16 * 1024;
/** Node's Buffer pool slab (Buffer.poolSize): a slice of it is never whole, but stay clear of it. */
const POOL_SLAB_BYTES = 8 * 1024 + 1;

/** Parsed files from this size on share or own memory worth freeing by hand (releaseViewed). */
export const BIG_BUFFER_BYTES = 256 * 1024;

/**
 * Frees the memory that a parsed message's files are views of: the buffer the message was read
 * into, over whose base64 lines big files were decoded (pipeline/parse.ts), or a file's own
 * buffer. Only for a job's own parse result once nothing reads any of it; memory too small to be
 * more than a shared pool slab is left to the collector. Returns how many buffers were freed.
 */
export function releaseViewed(views: readonly Uint8Array[]): number {
  const memories = new Set<ArrayBuffer>();
  for (const view of views) {
    const memory = view.buffer;
    if (memory instanceof ArrayBuffer && memory.byteLength >= BIG_BUFFER_BYTES) memories.add(memory);
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
