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

const EMPTY = Buffer.alloc(0);

function occurrences(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0; at = text.indexOf(char, at + 1)) count++;
  return count;
}

function withoutLineEnds(text: string): string {
  return text.replace(/[\r\n]/g, '');
}
