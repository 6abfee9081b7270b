import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PRINTABLE_RUN_LIMIT, REPEAT_RUN_LIMIT, RandomnessMeter, WINDOW } from '../../../src/verify/common/randomness.js';

/** The meter's verdict on `bytes` pushed in pieces of `piece` bytes (seams are where runs hide). */
function measure(bytes: Buffer, piece: number, start = 0): string | undefined {
  const meter = new RandomnessMeter(start);
  for (let at = 0; at < bytes.length; at += piece) meter.push(bytes.subarray(at, at + piece));
  return meter.finish();
}

/** random bytes with no accidental printable run or repeat, so only what a test plants can fail */
function noise(length: number): Buffer {
  const bytes = randomBytes(length);
  for (let i = 0, run = 0; i < length; i++) {
    run = bytes[i]! >= 0x20 && bytes[i]! < 0x7f ? run + 1 : 0;
    if (run === 20) {
      bytes[i] = 0x80 | (bytes[i]! & 0x7f);
      run = 0;
    }
  }
  return bytes;
}

describe('the randomness test', () => {
  it('passes random bytes in any piece size', () => {
    const bytes = randomBytes(4 * 1024 * 1024);
    for (const piece of [1, 7, 4096, 65_536]) expect(measure(bytes.subarray(0, piece === 1 ? 100_000 : bytes.length), piece)).toBeUndefined();
  });

  it('finds a printable run of the limit across a seam, with its offset, and not one byte shorter', () => {
    const text = Buffer.from('The root password is hunter2; see /etc/'.padEnd(PRINTABLE_RUN_LIMIT, '.'));
    const at = 10_000 - 17;
    const fence = Buffer.from([0x80]); // so the noise around it cannot lengthen the run
    const planted = Buffer.concat([noise(at - 1), fence, text, fence, noise(10_000)]);
    expect(measure(planted, 10_000, 500)).toBe(`${PRINTABLE_RUN_LIMIT} printable characters in a row at offset ${500 + at}`);
    const shorter = Buffer.concat([noise(at - 1), fence, text.subarray(1), fence, noise(10_000)]);
    expect(measure(shorter, 10_000)).toBeUndefined();
  });

  it('gives the same finding whatever the pieces and their alignment in memory', () => {
    const fence = Buffer.from([0x80]);
    const text = Buffer.from('The root password is hunter2; see /etc/shadow on app-7'.slice(0, PRINTABLE_RUN_LIMIT + 3));
    const planted = Buffer.concat([noise(70_001), fence, text, fence, noise(9_000)]);
    // the length is as much of the run as has been pushed when it is found: with tiny pieces, less than all
    const lengths = Array.from({ length: 4 }, (_, extra) => PRINTABLE_RUN_LIMIT + extra).join('|');
    const expected = new RegExp(`^(${lengths}) printable characters in a row at offset ${70_002 + 7}$`);
    const shifted = Buffer.alloc(planted.length + 3);
    planted.copy(shifted, 3); // a view that starts off a 4-byte boundary
    for (const piece of [1, 3, 4095, 65_536, planted.length]) {
      expect(measure(planted, piece, 7), `piece ${piece}`).toMatch(expected);
      expect(measure(shifted.subarray(3), piece, 7), `shifted, piece ${piece}`).toMatch(expected);
    }
  });

  it('finds a repeated byte run across a seam', () => {
    const fence = Buffer.from([0x01]); // so a zero in the noise beside it cannot lengthen the run
    const planted = Buffer.concat([noise(4999), fence, Buffer.alloc(REPEAT_RUN_LIMIT), fence, noise(5000)]);
    expect(measure(planted, 5003)).toMatch(/^the byte 0x00 16 times in a row at offset 5000$/);
  });

  it('finds UTF-16 text, which has neither runs, by its byte frequencies', () => {
    const utf16 = Buffer.from('casedrop diagnostic log line with a secret; '.repeat(200), 'utf16le').subarray(0, WINDOW);
    expect(measure(Buffer.concat([noise(WINDOW), utf16]), 65_536)).toMatch(/byte frequencies of bytes 4096–8191 are far from random/);
  });
});
