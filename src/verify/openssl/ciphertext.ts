import { decodeBase64Lines, decodeIfPlain, textPieces } from '../common/base64-text.js';
import { checkEncryptedRegions, refuse, SCAN_CHUNK } from '../common/byte-map.js';
import { malformed } from '../common/malformed.js';
import { RandomnessMeter } from '../common/randomness.js';
import type { ByteSource } from '../common/source.js';

/**
 * The byte map of `openssl enc` output is fixed: "Salted__" and the salt (16 bytes), then
 * ciphertext to the end. The ciphertext must look like it; with -a it is tested after decoding.
 */
const HEADER = 16;
/** the first character that ends the base64 letters: padding, or anything that is not allowed */
const NOT_BASE64_OR_EOL = /[^A-Za-z0-9+/\r\n]/g;

export async function checkBinaryCiphertext(source: ByteSource): Promise<void> {
  await checkEncryptedRegions(source, [
    { start: 0, end: HEADER, kind: 'metadata', what: 'the salt header' },
    { start: HEADER, end: source.size, kind: 'encrypted', what: 'the data after the salt' },
  ]);
}

/**
 * Decodes the base64 text a read at a time (1 MiB into one reused buffer; line ends are left to the
 * decoder, which skips them) and tests the bytes after the salt. Before the padding only base64
 * letters, CR and LF; from the first "=" to the end, only "=" and then white space.
 */
export async function checkBase64Ciphertext(source: ByteSource): Promise<void> {
  const meter = new RandomnessMeter(HEADER);
  const scratch = Buffer.allocUnsafe(SCAN_CHUNK);
  const padding = new Padding();
  let pending = '';
  let decoded = 0;
  const sink = (bytes: Buffer): void => {
    const skip = Math.max(0, HEADER - decoded);
    decoded += bytes.length;
    meter.push(bytes.subarray(skip));
  };
  for (let offset = 0; offset < source.size && !meter.failed;) {
    const chunk = await source.read(offset, SCAN_CHUNK, scratch);
    // whole lines where there are line ends, so that the text is whole groups of 4 and decodes as it is
    const lineEnd = offset + chunk.length < source.size ? chunk.lastIndexOf(0x0a) + 1 : 0;
    const whole = lineEnd > 0 ? lineEnd : chunk.length;
    for (const piece of textPieces(chunk, whole)) {
      if (padding.seen) padding.check(piece.text, offset);
      else pending = decodePiece(piece.text, pending, offset, padding, sink);
    }
    offset += whole;
  }
  const failure = meter.finish();
  if (failure)
    refuse('not-ciphertext', `the data after the salt (decoded from base64; offsets are of the decoded bytes) does not look like ciphertext: ${failure}`);
}

/** Decodes one piece of the text to `sink`; returns the characters carried to the next. */
function decodePiece(text: string, pending: string, offset: number, padding: Padding, sink: (bytes: Buffer) => void): string {
  // CR anywhere is a line end here, so only a text without one takes the path that needs no scan
  let lines = text.includes('\r') ? undefined : decodeIfPlain(text, pending);
  if (!lines) {
    NOT_BASE64_OR_EOL.lastIndex = 0;
    const bad = NOT_BASE64_OR_EOL.exec(text)?.index;
    if (bad !== undefined) padding.check(text.slice(bad), offset);
    lines = decodeBase64Lines(bad === undefined ? text : text.slice(0, bad), pending);
  }
  sink(lines.bytes);
  // the last group, short of its padding, is decoded once the padding is seen
  if (!padding.seen) return lines.pending;
  sink(Buffer.from(lines.pending, 'base64'));
  return '';
}

/** The text from the first character that is not a base64 letter (nor CR, LF): "="s, then white space. */
class Padding {
  seen = false;
  private spaces = false;

  check(text: string, offset: number): void {
    this.seen = true;
    const rest = text.replace(/[\r\n]/g, '');
    let at = 0;
    if (!this.spaces) while (rest[at] === '=') at++;
    if (at < rest.length) this.spaces = true;
    const bad = /\S/.exec(rest.slice(at));
    if (bad) malformed(`a character that is not base64 (${JSON.stringify(bad[0])}) in the text, near offset ${offset}`);
  }
}
