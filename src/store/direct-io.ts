import { constants, write } from 'node:fs';
import { promisify } from 'node:util';
import { storeWriteBytes } from '../metrics.js';
import type { FdOps } from './quick-fs.js';

/**
 * Large objects bypass the page cache (O_DIRECT) after their first DIRECT_FROM_BYTES. Every byte
 * of an object must be on the disk before its commit returns; written through the page cache, the
 * kernel copies each byte into a fresh page (on the bench's VM, first-touch pages made that copy
 * ~1 s of CPU per GiB) and the fsyncs then spend as much again submitting the writeback from this
 * process's threads: `dd` of 1 GiB with fdatasync took 1.8-2.5 s of system time, with O_DIRECT
 * 0.2-0.6 s. nginx, the bench's yardstick, leaves its writeback to the kernel after it answers.
 * Direct writes need their memory, file offset and length aligned to the disk's logical block:
 * they come from slots of one WebAssembly.Memory (page-aligned, unlike Buffers, whose memory
 * malloc places), offsets are whole slots from an aligned start, and the last slot is padded with
 * zeros and the file truncated back. A file system that refuses (tmpfs before Linux 6.6, some
 * FUSE) gets buffered writes, as do objects written while every slot is taken.
 */
export const DIRECT_FROM_BYTES = 4 << 20;
/** 4 KiB: the largest logical block size of common disks (a 512-byte one accepts it too). */
export const DIRECT_ALIGN = 4096;
/**
 * Bytes per direct write, and the aligned memory one object holds while it writes. One slot per
 * object: the object writer keeps two batches of ciphertext in flight (src/store/writer.ts), so
 * encryption goes on while a slot is written. Four 100 MiB uploads at once peaked at 118-121 MiB
 * RSS with 512 KiB, 123-124 with 1 MiB; the rate did not differ.
 */
export const SLOT_BYTES = 512 * 1024;
/** Objects written directly at once, per process; 8 MiB of address space, resident only as slots get used. */
const MAX_SLOTS = 16;
const WASM_PAGE_BYTES = 64 * 1024;

const writeAt = promisify(write);

/** Process-wide: a file system that refused once is not asked again (one data dir per process). */
export const directWrites = { refused: false };

class SlotPool {
  private memory: Buffer | undefined;
  private readonly free: Buffer[] = [];
  private made = 0;

  /** A slot, or none when all are taken (the caller writes through the page cache instead). */
  take(): Buffer | undefined {
    if (this.free.length > 0) return this.free.pop();
    if (this.made === MAX_SLOTS) return undefined;
    this.memory ??= alignedMemory(MAX_SLOTS * SLOT_BYTES);
    if (this.memory === undefined) return undefined;
    const start = this.made++ * SLOT_BYTES;
    return this.memory.subarray(start, start + SLOT_BYTES);
  }

  /** Only once no write from it is in flight: the kernel reads a slot's memory until its write returns. */
  give(slot: Buffer): void {
    this.free.push(slot);
  }
}

/**
 * Page-aligned memory, or undefined where there is none to have: WebAssembly is off under
 * `--jitless`, and a Memory can fail for want of address space. Fixed size: growing a Memory
 * detaches its old ArrayBuffer, and the slots are views of it.
 */
function alignedMemory(bytes: number): Buffer | undefined {
  if (typeof WebAssembly === 'undefined') return undefined;
  try {
    const pages = bytes / WASM_PAGE_BYTES;
    return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer);
  } catch {
    return undefined;
  }
}

const pool = new SlotPool();

/** O_DIRECT where the platform has it (Linux; not macOS). */
export const O_DIRECT: number | undefined = constants.O_DIRECT;

export const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * The rest of a temp file from an aligned offset on, written directly. `append` calls are served in
 * order; each resolves once its bytes are copied into the slot (and every full slot written), so
 * the caller's buffers are free. A direct write the file system refuses (EINVAL) is written again
 * through `bufferedFd`, and every later one with it.
 */
export class DirectTail {
  private fill = 0;
  private queue: Promise<void> = Promise.resolve();
  private fallBack = false;
  private released = false;

  private constructor(
    private readonly directFd: number,
    private readonly bufferedFd: number,
    private position: number,
    private readonly slot: Buffer,
    private readonly ops: FdOps,
  ) {}

  /** A tail from `position` (a multiple of DIRECT_ALIGN), or undefined when no slot is free. */
  static start(directFd: number, bufferedFd: number, position: number, ops: FdOps): DirectTail | undefined {
    const slot = pool.take();
    return slot && new DirectTail(directFd, bufferedFd, position, slot, ops);
  }

  append(chunks: readonly Uint8Array[]): Promise<void> {
    const next = this.queue.then(() => this.copyIn(chunks));
    // a failure is the caller's through `next`; later appends must still run (and fail) in order
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Writes what is left (padded with zeros, then cut back to its length); resolves to the file's size. */
  async finish(truncate: (size: number) => void): Promise<number> {
    await this.queue;
    const size = this.position + this.fill;
    if (this.fill > 0) {
      const padded = roundUp(this.fill, DIRECT_ALIGN);
      this.slot.fill(0, this.fill, padded);
      await this.writeSlot(padded);
      truncate(size);
    }
    return size;
  }

  /** Every append settled, and with it every write from the slot (errors are the appends' to report). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Gives the slot back; only once settled. */
  release(): void {
    if (this.released) return;
    this.released = true;
    pool.give(this.slot);
  }

  private async copyIn(chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.byteLength;) {
        const n = Math.min(chunk.byteLength - at, SLOT_BYTES - this.fill);
        this.slot.set(chunk.subarray(at, at + n), this.fill);
        this.fill += n;
        at += n;
        if (this.fill < SLOT_BYTES) continue;
        await this.writeSlot(SLOT_BYTES);
        this.position += SLOT_BYTES;
        this.fill = 0;
      }
    }
  }

  private async writeSlot(length: number): Promise<void> {
    if (!this.fallBack) {
      try {
        await this.writeFully(this.directFd, length);
        storeWriteBytes.inc({ path: 'direct' }, length);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        this.fallBack = true;
        directWrites.refused = true;
      }
    }
    await this.writeFully(this.bufferedFd, length);
    storeWriteBytes.inc({ path: 'page-cache' }, length);
  }

  private async writeFully(fd: number, length: number): Promise<void> {
    for (let done = 0; done < length;) {
      const { bytesWritten } = await this.ops.track(writeAt(fd, this.slot, done, length - done, this.position + done));
      done += bytesWritten;
    }
  }
}
