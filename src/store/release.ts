import { MessageChannel } from 'node:worker_threads';

/** Smaller buffers are not worth a call: they cost little while they wait for the GC. */
const MIN_BYTES = 16 * 1024;

// a port whose peer is closed: what is posted to it is dropped, its transferred buffers with it
const drain = new MessageChannel();
drain.port2.close();

/**
 * Hands a large buffer's memory back to the allocator now, instead of whenever V8 next collects
 * it. A large upload churns through 64 KiB buffers (every HTTP body piece is a fresh copy, every
 * sealed chunk a fresh output) and V8 collects young ArrayBuffers only after tens of MiB of them:
 * that garbage was most of the upload role's peak RSS, and the full collections it caused were
 * most of its CPU. Transferring the ArrayBuffer to a closed port detaches and frees it; Node 20
 * has no ArrayBuffer.prototype.transfer. Only a buffer that is the whole of its ArrayBuffer is
 * released, never a slice of Node's shared pool; afterwards it is empty, so the caller passes
 * only buffers nothing else holds.
 */
export function release(buf: Uint8Array): void {
  const ab = buf.buffer;
  if (buf.byteLength < MIN_BYTES || buf.byteOffset !== 0 || buf.byteLength !== ab.byteLength || !(ab instanceof ArrayBuffer)) return;
  drain.port1.postMessage(null, [ab]);
}
