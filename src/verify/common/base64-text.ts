/**
 * Decoding large stretches of base64 text whose characters the caller has already checked (only
 * the 64 letters, CR and LF): Node's decoder skips line ends itself, so a 1 MiB stretch of lines is
 * decoded by one native call, without splitting it into lines or copying it without its line ends
 * (both cost several times the decoding). Characters past the last whole group of 4 are carried.
 */
export function decodeBase64Lines(text: string, pending: string): { bytes: Buffer; pending: string } {
  const chars = pending.length + text.length - occurrences(text, '\n') - occurrences(text, '\r');
  if (chars < 4) return { bytes: EMPTY, pending: pending + withoutLineEnds(text) };
  let cut = text.length;
  for (let keep = chars % 4; keep > 0;) {
    const code = text.charCodeAt(--cut);
    if (code !== 0x0a && code !== 0x0d) keep--;
  }
  return { bytes: Buffer.from(pending + text.slice(0, cut), 'base64'), pending: withoutLineEnds(text.slice(cut)) };
}

/**
 * The text decoded as by `decodeBase64Lines` if it holds nothing but base64 letters and line ends
 * (CR only before LF), else undefined — without a scan of its own: Node's decoder skips any other
 * character (or stops at "="), so the output comes out short of 3 bytes per 4 characters; only
 * "-" and "_", which it takes for letters (URL-safe base64), are looked for apart.
 */
export function decodeIfPlain(text: string, pending: string): { bytes: Buffer; pending: string } | undefined {
  if (text.includes('-') || text.includes('_')) return undefined;
  for (let cr = text.indexOf('\r'); cr >= 0; cr = text.indexOf('\r', cr + 1)) if (text.charCodeAt(cr + 1) !== 0x0a) return undefined;
  const lines = decodeBase64Lines(text, pending);
  const chars = pending.length + text.length - occurrences(text, '\n') - occurrences(text, '\r');
  const whole = chars - lines.pending.length;
  if (!LETTERS.test(lines.pending) || lines.bytes.length !== (whole / 4) * 3) return undefined;
  return lines;
}

/**
 * The text of `bytes[0, end)` in pieces of whole lines of at most 64 KiB (cut inside a line only
 * when no line ends there): V8 makes strings that small in its young generation, while each 1 MiB
 * string was a fresh allocation outside it, page faults and all, which cost more than decoding it.
 */
export function* textPieces(bytes: Buffer, end: number): Generator<{ text: string; cut: boolean }> {
  for (let at = 0; at < end;) {
    let to = Math.min(end, at + TEXT_PIECE);
    const eol = to < end ? bytes.lastIndexOf(0x0a, to - 1) : -1;
    if (eol >= at) to = eol + 1;
    yield { text: bytes.toString('latin1', at, to), cut: to < end && eol < at };
    at = to;
  }
}

const TEXT_PIECE = 64 * 1024;
const LETTERS = /^[A-Za-z0-9+/]*$/;
const EMPTY = Buffer.alloc(0);

function occurrences(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0; at = text.indexOf(char, at + 1)) count++;
  return count;
}

function withoutLineEnds(text: string): string {
  return text.replace(/[\r\n]/g, '');
}
