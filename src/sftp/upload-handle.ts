import { ErrorCode, isCasedropError } from '../errors.js';
import type { OpenUpload } from '../drive/ports.js';
import { Reassembly, type Piece } from '../drive/reassembly.js';

/** Bytes of out-of-order WRITEs held per open file (OpenSSH keeps at most 64 × 32 KiB in flight). */
export const MAX_REORDER_BYTES = 16 << 20;

export type WriteAnswer = (error?: string) => void;

/**
 * One file open for writing over SFTP: WRITEs may arrive out of order and in parallel; they are
 * put in order (Reassembly), written one after the other, and each request is answered only once
 * its bytes went into the upload. The first failure fails every later request of the handle.
 */
export class UploadHandle {
  private readonly order: Reassembly<WriteAnswer>;
  private chain: Promise<void> = Promise.resolve();
  private failure?: string;

  constructor(readonly upload: OpenUpload) {
    this.order = new Reassembly(upload.offset, MAX_REORDER_BYTES);
  }

  get size(): number {
    return this.order.offset;
  }

  write(offset: number, data: Buffer, answer: WriteAnswer): void {
    if (this.failure) return answer(this.failure);
    const placed = this.order.place(offset, data, answer);
    if (!placed.ok) {
      const why = {
        behind: `bytes before offset ${this.order.offset} were already received; resume from there (sftp reput)`,
        'too-far': 'too many writes ahead of the missing bytes',
        overlap: 'this offset was already written',
      }[placed.why];
      return answer(why);
    }
    // one step of the chain for all the pieces this request made contiguous, not one per piece
    if (placed.ready.length > 0) {
      const ready = placed.ready;
      this.chain = this.chain.then(() => this.writeInOrder(ready));
    }
  }

  /** Never rejects: a failure is kept in `failure` and told to this and every later request. */
  private async writeInOrder(pieces: Piece<WriteAnswer>[]): Promise<void> {
    for (const piece of pieces) {
      if (this.failure) {
        piece.tag(this.failure);
        continue;
      }
      try {
        await this.upload.write(piece.data);
        piece.tag();
      } catch (err) {
        this.failure = isCasedropError(err, ErrorCode.UploadTooBig)
          ? `Refused: ${err.message}.`
          : 'the upload could not be written here; what arrived before is kept, resume later (sftp reput)';
        piece.tag(this.failure);
      }
    }
  }

  /**
   * Waits for writes in flight. Returns why the file is not whole (a gap that was never filled, a
   * failed write), or undefined when every byte sent is in the upload.
   */
  async settle(): Promise<string | undefined> {
    await this.chain;
    const stranded = this.order.drain();
    if (stranded.length > 0) {
      const gap = `the file has a gap at offset ${this.order.offset}; resume from there (sftp reput)`;
      for (const piece of stranded) piece.tag(gap);
      this.failure ??= gap;
    }
    return this.failure;
  }
}
