/**
 * SFTP clients keep many WRITE requests in flight (OpenSSH: 64 × 32 KiB) and a server may see
 * them out of order; the upload takes bytes strictly in order. Pieces ahead of the next expected
 * offset wait here until the gap is filled. Their requests are only answered once written, so a
 * client can never have more waiting than its own in-flight window; `maxBytes` still bounds a
 * client that writes far ahead and never fills the gap.
 */
export type Placement<T> = { ok: true; ready: Piece<T>[] } | { ok: false; why: 'behind' | 'too-far' | 'overlap' };

export interface Piece<T = unknown> {
  offset: number;
  data: Buffer;
  tag: T;
}

export class Reassembly<T = unknown> {
  private readonly waiting = new Map<number, Piece<T>>();
  private waitingBytes = 0;

  constructor(
    private next: number,
    private readonly maxBytes: number,
  ) {}

  get offset(): number {
    return this.next;
  }

  get pendingBytes(): number {
    return this.waitingBytes;
  }

  /** The pieces now contiguous from the expected offset, in order (possibly none). */
  place(offset: number, data: Buffer, tag: T): Placement<T> {
    if (offset < this.next) return { ok: false, why: 'behind' };
    if (this.waiting.has(offset)) return { ok: false, why: 'overlap' };
    if (offset > this.next && this.waitingBytes + data.length > this.maxBytes) return { ok: false, why: 'too-far' };
    this.waiting.set(offset, { offset, data, tag });
    this.waitingBytes += data.length;
    const ready: Piece<T>[] = [];
    for (let piece = this.waiting.get(this.next); piece; piece = this.waiting.get(this.next)) {
      this.waiting.delete(piece.offset);
      this.waitingBytes -= piece.data.length;
      ready.push(piece);
      this.next += piece.data.length;
    }
    return { ok: true, ready };
  }

  /** Pieces still waiting (a gap was never filled), for refusing their requests at close. */
  drain(): Piece<T>[] {
    const left = [...this.waiting.values()];
    this.waiting.clear();
    this.waitingBytes = 0;
    return left;
  }
}
