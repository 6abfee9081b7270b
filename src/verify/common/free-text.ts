import { refuse } from './byte-map.js';

/**
 * The one rule for free-text regions (archive and file comments, armor headers, 7z comments): the
 * format lets a sender put anything there, readable without the password, so casedrop allows only a
 * short label — at most 64 bytes of printable ASCII on one line, e.g. "Case 612345678 server logs".
 * Longer, multi-line or binary text is where a plain copy of the data (or a whole plain archive)
 * would hide, and is refused.
 */
export const FREE_TEXT_MAX = 64;

export function checkFreeText(bytes: Uint8Array, what: string): void {
  if (bytes.length > FREE_TEXT_MAX) refuse('plaintext-metadata', `${what} holds ${bytes.length} bytes of readable text (at most ${FREE_TEXT_MAX} are allowed)`);
  const bad = bytes.findIndex((byte) => byte < 0x20 || byte > 0x7e);
  if (bad >= 0)
    refuse('plaintext-metadata', `${what} holds a byte that is not printable ASCII (0x${bytes[bad]!.toString(16).padStart(2, '0')} at position ${bad})`);
}
