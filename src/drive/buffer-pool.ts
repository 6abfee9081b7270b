/**
 * Reused buffers for upload data. V8 counts the bytes of every new ArrayBuffer towards its next
 * full garbage collection, whose cost is the whole heap's (~23 MiB of modules): one fresh 32 KiB
 * buffer per SFTP WRITE meant one full collection every few MiB uploaded. A buffer taken here
 * comes back when its bytes went where they go (`give`), and is lent again.
 *
 * A buffer that never comes back (a refused write, a dropped connection) is simply collected: the
 * pool only remembers what it lent weakly, and makes a new buffer when none is free.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();

  constructor(
    /** the size of each buffer: longer requests get a buffer of their own, not pooled */
    readonly size: number,
    /** free buffers kept for later; more are let go */
    private readonly keep: number,
  ) {}

  take(length: number): Buffer {
    if (length > this.size) return Buffer.allocUnsafe(length);
    const buffer = this.free.pop() ?? new ArrayBuffer(this.size);
    this.lent.add(buffer);
    return Buffer.from(buffer, 0, length);
  }

  /**
   * Gives back a buffer from `take`, or any view into one; anything else is ignored. Its lender
   * must not read it afterwards: its bytes may be overwritten at once. Give each taking back once.
   */
  give(view: Uint8Array): void {
    const buffer = view.buffer;
    if (!(buffer instanceof ArrayBuffer) || !this.lent.delete(buffer)) return;
    // a buffer someone detached (transferred) has no bytes left to lend
    if (buffer.byteLength === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}

/**
 * SFTP packets of up to 34 KiB: a 32 KiB WRITE (OpenSSH, WinSCP, FileZilla) with its header and
 * any handle. 128 free ones (4.25 MiB) cover OpenSSH's 64 requests in flight plus what waits for the
 * store, for a couple of connections at once.
 */
export const uploadBuffers = new BufferPool(34 << 10, 128);

/**
 * SSH packets of up to 34 KiB cut across socket reads (OpenSSH's carry 32 KiB), lent to ssh2's
 * decipher and given back as soon as the SFTP layer copied their data: one in use per connection.
 */
export const sshPacketBuffers = new BufferPool(34 << 10, 16);
