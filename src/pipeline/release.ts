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

export function releaseBuffer(buffer: Buffer): boolean {
  const memory = buffer.buffer;
  if (!(memory instanceof ArrayBuffer) || buffer.byteLength < RELEASE_MIN_BYTES) return false;
  if (buffer.byteOffset !== 0 || buffer.byteLength !== memory.byteLength) return false;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [memory]);
  port1.close();
  port2.close();
  return true;
}
