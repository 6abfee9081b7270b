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

const NO_WORDS = new Uint32Array(0);

/**
 * Feed one region's bytes in order with `push`, then `finish`: the first failure says where and why.
 *
 * One pass per chunk while the chunk is in cache, with no allocation: the window histogram is
 * counted four bytes to a 32-bit load, and runs are found by sampling (a run of 40 printable bytes
 * holds a position that is a multiple of 40, a run of 16 equal bytes a pair starting at a multiple of
 * 15), so most bytes are looked at once. A run that crosses from one chunk into the next is carried
 * as its length so far. (A loop that tests every byte for all three costs 2–3 times as much CPU: the
 * printable test is an unpredictable branch for random bytes.) Within a chunk a printable run is
 * reported before a repeated byte, and either before a window's frequencies.
 */
export class RandomnessMeter {
  /** four interleaved tables, so consecutive increments do not wait on each other; summed per window */
  private readonly counts = new Uint32Array(1024);
  private inWindow = 0;
  private windowStart: number;
  private position: number;
  /** the printable run, and the run of `last`, that end at the last byte pushed */
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
    if (this.failure || chunk.length === 0) return;
    if (!this.checkPrintableRuns(chunk) || !this.checkRepeatRuns(chunk) || !this.count(chunk)) return;
    this.position += chunk.length;
  }

  finish(): string | undefined {
    if (!this.failure && this.inWindow >= MIN_LAST_WINDOW) this.closeWindow(this.position);
    return this.failure;
  }

  private count(bytes: Uint8Array): boolean {
    const { counts } = this;
    const n = bytes.length;
    // the aligned middle of the chunk, read four bytes at a time (byte order does not matter: all four are counted)
    const head = (4 - (bytes.byteOffset % 4)) % 4;
    const words = n - head >= 4 ? new Uint32Array(bytes.buffer, bytes.byteOffset + head, (n - head) >> 2) : NO_WORDS;
    for (let i = 0; i < n;) {
      const end = Math.min(n, i + WINDOW - this.inWindow);
      let j = i;
      while (j < end && (j < head || ((j - head) & 3) !== 0)) counts[bytes[j++]!]!++;
      const wordEnd = Math.min(words.length, (end - head) >> 2);
      for (let w = (j - head) >> 2; w < wordEnd; w++) {
        const x = words[w]!;
        counts[x & 0xff]!++;
        counts[256 + ((x >>> 8) & 0xff)]!++;
        counts[512 + ((x >>> 16) & 0xff)]!++;
        counts[768 + (x >>> 24)]!++;
      }
      j = Math.max(j, head + wordEnd * 4);
      while (j < end) counts[bytes[j++]!]!++;
      this.inWindow += end - i;
      i = end;
      if (this.inWindow === WINDOW && !this.closeWindow(this.position + i)) return false;
    }
    return true;
  }

  private checkPrintableRuns(bytes: Uint8Array): boolean {
    const n = bytes.length;
    let prefix = 0;
    while (prefix < n && PRINTABLE[bytes[prefix]!] === 1) prefix++;
    if (this.printableRun + prefix >= PRINTABLE_RUN_LIMIT) return this.failPrintable(this.position - this.printableRun, this.printableRun + prefix);
    for (let i = 0; i < n; i += PRINTABLE_RUN_LIMIT) {
      if (PRINTABLE[bytes[i]!] === 0) continue;
      let from = i;
      while (from > 0 && PRINTABLE[bytes[from - 1]!] === 1) from--;
      let to = i + 1;
      while (to < n && PRINTABLE[bytes[to]!] === 1) to++;
      if (to - from >= PRINTABLE_RUN_LIMIT) return this.failPrintable(this.position + from, to - from);
    }
    let suffix = 0;
    while (suffix < n && PRINTABLE[bytes[n - 1 - suffix]!] === 1) suffix++;
    this.printableRun = suffix === n ? this.printableRun + n : suffix;
    return true;
  }

  private checkRepeatRuns(bytes: Uint8Array): boolean {
    const n = bytes.length;
    let prefix = 0;
    while (prefix < n && bytes[prefix] === this.last) prefix++;
    if (this.repeatRun + prefix >= REPEAT_RUN_LIMIT) return this.failRepeat(this.last, this.position - this.repeatRun, this.repeatRun + prefix);
    for (let i = 0; i + 1 < n; i += REPEAT_RUN_LIMIT - 1) {
      const value = bytes[i]!;
      if (bytes[i + 1] !== value) continue;
      let from = i;
      while (from > 0 && bytes[from - 1] === value) from--;
      let to = i + 2;
      while (to < n && bytes[to] === value) to++;
      if (to - from >= REPEAT_RUN_LIMIT) return this.failRepeat(value, this.position + from, to - from);
    }
    const value = bytes[n - 1]!;
    let suffix = 1;
    while (suffix < n && bytes[n - 1 - suffix] === value) suffix++;
    this.repeatRun = prefix === n ? this.repeatRun + n : suffix;
    this.last = value;
    return true;
  }

  private failPrintable(at: number, length: number): false {
    return this.fail(`${length} printable characters in a row at offset ${at}`);
  }

  private failRepeat(value: number, at: number, length: number): false {
    return this.fail(`the byte 0x${value.toString(16).padStart(2, '0')} ${length} times in a row at offset ${at}`);
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

/** Pearson's chi-square of `n` bytes against the uniform distribution; `counts` holds four 256-entry tables to add up. */
function chiSquare(counts: Uint32Array, n: number): number {
  const expected = n / 256;
  let sum = 0;
  for (let b = 0; b < 256; b++) {
    const observed = counts[b]! + counts[256 + b]! + counts[512 + b]! + counts[768 + b]!;
    sum += (observed - expected) ** 2;
  }
  return sum / expected;
}
