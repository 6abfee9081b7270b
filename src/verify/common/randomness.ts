/**
 * A cheap test that bytes claimed to be ciphertext look like ciphertext. AES output (CTR, CBC, CFB,
 * OCB) is indistinguishable from uniform random bytes, so three properties of random bytes are
 * checked, each with a threshold whose chance of failing on random bytes is below 1e-9 per 20 MB
 * (README, "Every byte accounted for", has the figures):
 *
 * - byte frequencies in every 4 KiB window (and a last window of at least 1 KiB): Pearson's
 *   chi-square with 255 degrees of freedom, mean 255, refused above 550 (p ≈ 1e-23 per window;
 *   random bytes reached 362 in 200,000 windows); catches text, tables, zeros and most uncompressed
 *   data of a window or more;
 * - runs of printable ASCII (letters, digits, punctuation, space, tab, CR, LF): refused at 40 in a
 *   row (a random byte is printable with p = 98/256, so 40 in a row is p ≈ 2e-17 per position,
 *   4e-10 per 20 MB); catches a line of text anywhere, even inside a window that is otherwise random;
 * - runs of one repeated byte: refused at 16 (p = 2^-120): catches zero padding and filler.
 *
 * Compressed-but-not-encrypted data passes the chi-square most of the time (deflate and LZMA output
 * is near-uniform too) and is caught only by its occasional uncompressed stretches: the README
 * says what this test can and cannot tell.
 */
export const WINDOW = 4096;
export const MIN_LAST_WINDOW = 1024;
export const CHI_SQUARE_LIMIT = 550;
export const PRINTABLE_RUN_LIMIT = 40;
export const REPEAT_RUN_LIMIT = 16;

const PRINTABLE = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) PRINTABLE[b] = 1;
for (const b of [0x09, 0x0a, 0x0d]) PRINTABLE[b] = 1;

/** Feed one region's bytes in order with `push`, then `finish`: the first failure says where and why. */
export class RandomnessMeter {
  /** four interleaved tables, so consecutive increments do not wait on each other; summed per window */
  private readonly counts = new Uint32Array(1024);
  private inWindow = 0;
  private windowStart: number;
  private position: number;
  /** the last bytes pushed, for runs that cross from one chunk into the next */
  private tail: Buffer = Buffer.alloc(0);
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
    if (this.failure || chunk.length === 0) return;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.checkRuns(bytes) || !this.count(bytes)) return;
    const keep = Math.min(PRINTABLE_RUN_LIMIT - 1, bytes.length);
    this.tail = Buffer.concat([this.tail, bytes.subarray(bytes.length - keep)]).subarray(-(PRINTABLE_RUN_LIMIT - 1));
    this.position += bytes.length;
  }

  finish(): string | undefined {
    if (!this.failure && this.inWindow >= MIN_LAST_WINDOW) this.closeWindow(this.position);
    return this.failure;
  }

  private count(bytes: Buffer): boolean {
    const { counts } = this;
    for (let i = 0; i < bytes.length;) {
      const end = Math.min(bytes.length, i + WINDOW - this.inWindow);
      let j = i;
      for (; j + 4 <= end; j += 4) {
        counts[bytes[j]!]!++;
        counts[256 + bytes[j + 1]!]!++;
        counts[512 + bytes[j + 2]!]!++;
        counts[768 + bytes[j + 3]!]!++;
      }
      for (; j < end; j++) counts[bytes[j]!]!++;
      this.inWindow += end - i;
      i = end;
      if (this.inWindow === WINDOW && !this.closeWindow(this.position + i)) return false;
    }
    return true;
  }

  /**
   * Runs inside the chunk are found from aligned blocks (a run of 40 contains a whole aligned block
   * of 20, a run of 16 one of 8), so most bytes are never looked at; runs that cross from the
   * previous chunk are looked for byte by byte in the few bytes around the seam.
   */
  private checkRuns(bytes: Buffer): boolean {
    const seam = Buffer.concat([this.tail, bytes.subarray(0, PRINTABLE_RUN_LIMIT - 1)]);
    const seamAt = this.position - this.tail.length;
    return this.runsIn(seam, seamAt, 1, 1) && this.runsIn(bytes, this.position, PRINTABLE_RUN_LIMIT / 2, REPEAT_RUN_LIMIT / 2);
  }

  private runsIn(bytes: Buffer, at: number, printableStep: number, repeatStep: number): boolean {
    const n = bytes.length;
    for (let i = 0; i < n; i += printableStep) {
      if (PRINTABLE[bytes[i]!] === 0) continue;
      let from = i;
      while (from > 0 && PRINTABLE[bytes[from - 1]!] === 1) from--;
      let to = i + 1;
      while (to < n && PRINTABLE[bytes[to]!] === 1) to++;
      if (to - from >= PRINTABLE_RUN_LIMIT) return this.fail(`${to - from} printable characters in a row at offset ${at + from}`);
    }
    for (let i = 0; i + 1 < n; i += repeatStep) {
      const value = bytes[i]!;
      if (bytes[i + 1] !== value) continue;
      let from = i;
      while (from > 0 && bytes[from - 1] === value) from--;
      let to = i + 2;
      while (to < n && bytes[to] === value) to++;
      if (to - from >= REPEAT_RUN_LIMIT)
        return this.fail(`the byte 0x${value.toString(16).padStart(2, '0')} ${to - from} times in a row at offset ${at + from}`);
    }
    return true;
  }

  private closeWindow(end: number): boolean {
    const chi = chiSquare(this.counts, this.inWindow);
    if (chi > CHI_SQUARE_LIMIT)
      return this.fail(
        `byte frequencies of bytes ${this.windowStart}–${end - 1} are far from random (chi-square ${Math.round(chi)}, ciphertext stays under ${CHI_SQUARE_LIMIT})`,
      );
    this.counts.fill(0);
    this.inWindow = 0;
    this.windowStart = end;
    return true;
  }

  private fail(problem: string): false {
    this.failure = problem;
    return false;
  }
}

/** Pearson's chi-square of `n` bytes against the uniform distribution; `counts` may hold several 256-entry tables to add up. */
export function chiSquare(counts: Uint32Array, n: number): number {
  const expected = n / 256;
  let sum = 0;
  for (let b = 0; b < 256; b++) {
    let observed = 0;
    for (let t = b; t < counts.length; t += 256) observed += counts[t]!;
    sum += (observed - expected) ** 2;
  }
  return sum / expected;
}
