import { malformed } from '../common/malformed.js';

/**
 * Bounds-checked reading of 7z header structures (7-Zip's DOC/7zFormat.txt). Every read checks
 * the buffer end, and every count is checked against the bytes left, so a lying header ends in a
 * malformed-input error (→ corrupt) instead of a huge allocation or a long loop.
 */

export class Cursor {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  byte(): number {
    if (this.remaining < 1) malformed('header ends early');
    return this.bytes[this.offset++]!;
  }

  take(length: number): Buffer {
    if (length > this.remaining) malformed('header ends early');
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** 7z's variable-length UINT64: the leading 1 bits of the first byte count the extra bytes. */
  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0n;
    for (let i = 0; i < 8; i++) {
      if ((first & mask) === 0) {
        value |= BigInt(first & (mask - 1)) << BigInt(8 * i);
        break;
      }
      value |= BigInt(this.byte()) << BigInt(8 * i);
      mask >>= 1;
    }
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed('number out of range');
    return Number(value);
  }

  /** a count of items that each take at least `minBytes` header bytes: more than fit is a lie */
  count(minBytes = 1): number {
    const n = this.number();
    if (n * minBytes > this.remaining) malformed(`count ${n} exceeds the header`);
    return n;
  }

  expect(id: number, what: string): void {
    const got = this.byte();
    if (got !== id) malformed(`expected ${what} (0x${id.toString(16)}), found 0x${got.toString(16)}`);
  }
}
