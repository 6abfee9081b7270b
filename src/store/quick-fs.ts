import { closeSync, fdatasync, fsync, read, readSync, writev, writevSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * The file-system calls that finish in microseconds (open, close, stat, rename, link, unlink, and
 * reads and writes of a few KiB in the page cache) are made synchronously on the event loop; only
 * what waits on the disk (fsync) or moves much data goes through libuv's thread pool. A pool round
 * trip wakes a thread and then the loop: ~40 µs of CPU on the 2-core VM of bench/README.md, against
 * ~3 µs for a stat itself (open + write + close of a small file: 238 µs against 78). A mail message
 * makes ~100 such calls between its spool, its objects, their keys and its replies, which was a
 * fifth of the worker's CPU. The price: a file system that stalls on metadata (a hung NFS mount)
 * stalls the event loop too — the data directory belongs on a local disk (README).
 */

/** Reads and writes up to this size are done in place; bigger ones go to the thread pool. */
export const QUICK_IO_BYTES = 64 * 1024;

export const fsyncFd = promisify(fsync);
export const fdatasyncFd = promisify(fdatasync);
const writevAt = promisify(writev);
const readAt = promisify(read);

/** `err` is a missing file or directory. */
export const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** `fn()`, or `value` when it fails because the file is not there. */
export function unlessMissing<T, U>(fn: () => T, value: U): T | U {
  try {
    return fn();
  } catch (err) {
    if (isMissing(err)) return value;
    throw err;
  }
}

/** Writes all of `chunks` at `position` (in place when small); resolves to how many bytes that was. */
export async function writeAllAt(fd: number, chunks: readonly Uint8Array[], position: number): Promise<number> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  let skip = total <= QUICK_IO_BYTES ? writevSync(fd, chunks as Uint8Array[], position) : (await writevAt(fd, chunks as Uint8Array[], position)).bytesWritten;
  if (skip === total) return total;
  // a short writev is rare but legal: finish from the first unwritten byte
  let at = position + skip;
  for (const c of chunks) {
    if (skip >= c.byteLength) {
      skip -= c.byteLength;
      continue;
    }
    for (let rest = c.subarray(skip); rest.byteLength > 0;) {
      const n = writeSync(fd, rest, 0, rest.byteLength, at);
      at += n;
      rest = rest.subarray(n);
    }
    skip = 0;
  }
  return total;
}

/** Up to `length` bytes at `position` (fewer at the end of the file). */
export async function readAtMost(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n =
      length <= QUICK_IO_BYTES ? readSync(fd, buf, got, length - got, position + got) : (await readAt(fd, buf, got, length - got, position + got)).bytesRead;
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Async operations on one fd that must all settle before it is closed: a closed fd number is
 * reused at once, and a write still queued on the pool would land in whatever file got it.
 */
export class FdOps {
  private readonly running = new Set<Promise<unknown>>();

  track<T>(op: Promise<T>): Promise<T> {
    this.running.add(op);
    const done = () => void this.running.delete(op);
    op.then(done, done);
    return op;
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

/** Writes a small file's whole content into `fd` from its start, fsyncs it, and closes `fd` whatever happens. */
export async function writeSyncedAndClose(fd: number, data: string | Buffer): Promise<void> {
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await writeAllAt(fd, [bytes], 0);
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}
