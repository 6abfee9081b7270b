/**
 * A cheap test that bytes claimed to be ciphertext look like ciphertext. AES output (CTR, CBC, CFB,
 * OCB) is indistinguishable from uniform random bytes, so three properties of random bytes are
 * checked, each with a threshold whose chance of failing on random bytes is below 1e-12 per
 * 20 MB (README, "Ciphertext must look like ciphertext", has the figures):
 *
 * - byte frequencies in every 4 KiB window (and a last window of at least 1 KiB): Pearson's
 *   chi-square with 255 degrees of freedom, mean 255, refused above 550 (random bytes reach ~370 in
 *   a million windows); catches text, tables, zeros and most uncompressed data of a window or more;
 * - runs of printable ASCII (letters, digits, punctuation, space, tab, CR, LF): refused at 32 in a
 *   row (a random byte is printable with p = 98/256, so 32 in a row is p ≈ 5e-14 per position);
 *   catches a short line of text anywhere, even inside a window that is otherwise random;
 * - runs of one repeated byte: refused at 16 (p = 2^-120): catches zero padding and filler.
 *
 * Compressed-but-not-encrypted data passes the chi-square most of the time (deflate and LZMA output
 * is near-uniform too) and is caught only by its occasional uncompressed stretches: the README
 * says what this test can and cannot tell.
 */
export const WINDOW = 4096;
export const MIN_LAST_WINDOW = 1024;
export const CHI_SQUARE_LIMIT = 550;
export const PRINTABLE_RUN_LIMIT = 32;
export const REPEAT_RUN_LIMIT = 16;

const PRINTABLE = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) PRINTABLE[b] = 1;
for (const b of [0x09, 0x0a, 0x0d]) PRINTABLE[b] = 1;

/** Feed one region's bytes in order with `push`, then `finish`: the first failure says where and why. */
export class RandomnessMeter {
  private readonly counts = new Uint32Array(256);
  private inWindow = 0;
  private windowStart: number;
  private position: number;
  private printableRun = 0;
  private repeatRun = 0;
  private last = -1;
  private failure: string | undefined;

  /** `start`: the file offset of the first byte pushed (used in the failure message). */
  constructor(start: number) {
    this.windowStart = start;
    this.position = start;
  }

  get failed(): string | undefined {
    return this.failure;
  }

  push(chunk: Uint8Array): void {
    if (this.failure) return;
    const { counts } = this;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      counts[byte]!++;
      this.printableRun = PRINTABLE[byte] ? this.printableRun + 1 : 0;
      this.repeatRun = byte === this.last ? this.repeatRun + 1 : 1;
      this.last = byte;
      if (this.printableRun >= PRINTABLE_RUN_LIMIT) return this.fail(`${PRINTABLE_RUN_LIMIT} printable characters in a row at offset ${this.position + i + 1 - PRINTABLE_RUN_LIMIT}`);
      if (this.repeatRun >= REPEAT_RUN_LIMIT) return this.fail(`the byte 0x${byte.toString(16).padStart(2, '0')} ${REPEAT_RUN_LIMIT} times in a row at offset ${this.position + i + 1 - REPEAT_RUN_LIMIT}`);
      if (++this.inWindow === WINDOW && !this.closeWindow(this.position + i + 1)) return;
    }
    this.position += chunk.length;
  }

  finish(): string | undefined {
    if (!this.failure && this.inWindow >= MIN_LAST_WINDOW) this.closeWindow(this.position);
    return this.failure;
  }

  private closeWindow(end: number): boolean {
    const chi = chiSquare(this.counts, this.inWindow);
    if (chi > CHI_SQUARE_LIMIT) {
      this.fail(`byte frequencies of bytes ${this.windowStart}–${end - 1} are far from random (chi-square ${Math.round(chi)}, ciphertext stays under ${CHI_SQUARE_LIMIT})`);
      return false;
    }
    this.counts.fill(0);
    this.inWindow = 0;
    this.windowStart = end;
    return true;
  }

  private fail(problem: string): void {
    this.failure = problem;
  }
}

export function chiSquare(counts: Uint32Array, n: number): number {
  const expected = n / 256;
  let sum = 0;
  for (let b = 0; b < 256; b++) sum += (counts[b]! - expected) ** 2;
  return sum / expected;
}
