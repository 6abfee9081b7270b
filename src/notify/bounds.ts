/**
 * What any one outgoing mail may hold, whatever came in: casedrop must never amplify. A DSN returns
 * at most RETURNED_HEADER_BYTES of the original header block (RFC 3464 allows headers only), lists at
 * most MAX_LISTED files of each kind with a count of the rest, and echoes no customer content beyond
 * file names, the Subject and the Message-ID (each cut to 200 characters by `safeName`). A digest or
 * combined notice details at most MAX_MESSAGES messages and counts the rest. With those caps every
 * reply stays under MAX_REPLY_BYTES (a test sends hostile input and checks the bytes on the wire).
 */
export const RETURNED_HEADER_BYTES = 4096;
export const MAX_LISTED = 10;
export const MAX_MESSAGES = 30;
export const MAX_REPLY_BYTES = 96 * 1024;

/** At most `max` items, and how many were left out. */
export function capList<T>(items: readonly T[], max: number = MAX_LISTED): { shown: T[]; rest: number } {
  return { shown: items.slice(0, max), rest: Math.max(0, items.length - max) };
}

export function restLine(rest: number, what: string): string[] {
  return rest > 0 ? [`  … and ${rest} more ${what} (not listed, to keep this mail short)`] : [];
}

/**
 * The first `max` bytes of a header block, cut at the end of a header field so no field is
 * returned half (a cut field could read as a different one), with a note of what was left out.
 */
export function returnedHeaders(block: string, max: number = RETURNED_HEADER_BYTES): string {
  const text = block.replace(/\r?\n$/, '');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= max) return text;
  const head = Buffer.from(text, 'utf8').subarray(0, max).toString('utf8');
  // the last line start that begins a new field (not a folded continuation) ends the kept part
  let cut = head.length;
  for (let i = head.length - 1; i > 0; i--) {
    if (head[i - 1] === '\n' && head[i] !== ' ' && head[i] !== '\t') {
      cut = i;
      break;
    }
  }
  const kept = head.slice(0, cut).replace(/\r?\n$/, '');
  return `${kept}\r\nX-Casedrop-Headers-Cut: ${bytes - Buffer.byteLength(kept, 'utf8')} bytes of the original header block not returned`;
}
