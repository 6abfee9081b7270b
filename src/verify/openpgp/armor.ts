import { decodeBase64Lines, decodeIfPlain, textPieces } from '../common/base64-text.js';
import { refuse, SCAN_CHUNK } from '../common/byte-map.js';
import { checkFreeText } from '../common/free-text.js';
import { malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';

/**
 * ASCII armor (RFC 9580 §6), read line by line so that every byte of it is accounted for: blank
 * lines, the BEGIN line, at most a few header lines (each a short label: free-text rule), a blank
 * line, base64 lines, an optional "=XXXX" checksum line, the END line, and nothing but blank lines
 * after it. The base64 is decoded as it is read, so a large armored attachment is never held whole.
 * Body lines are not taken one by one: a stretch of whole lines that holds nothing but base64
 * letters (and CR only before LF) is what the line rules would pass, so it is decoded in one call;
 * the lines around anything else (padding, the checksum, the END line, a stray character) go
 * through the line rules.
 */
const BEGIN = /^\s*-----BEGIN PGP ([A-Z ,/0-9]+)-----\r?\n/;
const BEGIN_MESSAGE = '-----BEGIN PGP MESSAGE-----';
const END_MESSAGE = '-----END PGP MESSAGE-----';
const CHECKSUM = /^=[A-Za-z0-9+/]{4}$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
/** GnuPG writes no header lines; Version and Comment are what other tools add */
export const MAX_HEADER_LINES = 4;
/** RFC 9580 says 76 characters; a generous bound keeps a line-less file from filling memory */
const MAX_LINE = 4096;
/** the first character in a body stretch that a line rule must look at (besides a CR not before LF) */
const NOT_BASE64_OR_EOL = /[^A-Za-z0-9+/\r\n]/g;

/** The armor type ('MESSAGE', 'SIGNED MESSAGE', 'PUBLIC KEY BLOCK' …) if the bytes start with armor. */
export function armorType(head: Buffer): string | undefined {
  return BEGIN.exec(head.toString('latin1'))?.[1];
}

type State = 'before' | 'headers' | 'body' | 'checksum' | 'after';

/** The decoded bytes of an armored PGP MESSAGE, as a stream; armor that breaks the rules errors it. */
export function unarmoredStream(source: ByteSource): ReadableStream<Uint8Array> {
  const armor = new ArmorLines();
  let offset = 0;
  // the text is copied out of it at once, so one buffer serves every read
  const scratch = Buffer.allocUnsafe(SCAN_CHUNK);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return (async () => {
        for (;;) {
          const chunk = await source.read(offset, SCAN_CHUNK, scratch);
          if (chunk.length === 0) {
            for (const bytes of armor.end()) controller.enqueue(bytes);
            return controller.close();
          }
          // whole lines only: the next read starts again at the partial line (a line never spans two reads)
          const last = offset + chunk.length >= source.size;
          const whole = last ? chunk.length : chunk.lastIndexOf(0x0a) + 1;
          if (whole === 0 || chunk.length - whole > MAX_LINE)
            malformed(`an armor line longer than ${MAX_LINE} characters, before offset ${offset + chunk.length}`);
          let decoded = 0;
          for (const { text, cut } of textPieces(chunk, whole)) {
            if (cut) malformed(`an armor line longer than ${MAX_LINE} characters, after offset ${offset}`);
            for (const bytes of armor.push(text)) {
              controller.enqueue(bytes);
              decoded++;
            }
          }
          offset += whole;
          if (decoded > 0) return;
        }
      })().catch((err: unknown) => controller.error(err));
    },
  });
}

class ArmorLines {
  private state: State = 'before';
  private base64 = '';
  private headerLines = 0;
  private padded = false;

  /** Whole lines (the last may lack its line end at the end of the file); returns what they decode to. */
  push(text: string): Buffer[] {
    const decoded: Buffer[] = [];
    for (let at = 0; at < text.length;) {
      if (this.state === 'body' && !this.padded) at = this.plainLines(text, at, decoded);
      if (at >= text.length) break;
      const eol = text.indexOf('\n', at);
      const end = eol < 0 ? text.length : eol;
      this.line(withoutCr(text.slice(at, end)));
      at = end + 1;
    }
    const rest = this.drain(false);
    if (rest.length > 0) decoded.push(rest);
    return decoded;
  }

  /**
   * Decodes the whole lines from `at` that hold only base64 letters (and CR only before LF), the
   * lines the line rules would pass without a change of state; returns where they end.
   */
  private plainLines(text: string, at: number, decoded: Buffer[]): number {
    // the common case, a read of nothing but body lines, is decoded as it is: no scan, no copy of the text
    const plain = at === 0 && text.endsWith('\n') ? decodeIfPlain(text, this.base64) : undefined;
    if (plain) {
      if (plain.bytes.length > 0) decoded.push(plain.bytes);
      this.base64 = plain.pending;
      return text.length;
    }
    NOT_BASE64_OR_EOL.lastIndex = at;
    let stop = NOT_BASE64_OR_EOL.exec(text)?.index ?? text.length;
    for (let cr = text.indexOf('\r', at); cr >= 0 && cr < stop; cr = text.indexOf('\r', cr + 1)) if (text.charCodeAt(cr + 1) !== 0x0a) stop = cr;
    const end = text.lastIndexOf('\n', stop - 1) + 1;
    if (end <= at) return at;
    const { bytes, pending } = decodeBase64Lines(text.slice(at, end), this.base64);
    if (bytes.length > 0) decoded.push(bytes);
    this.base64 = pending;
    return end;
  }

  end(): Buffer[] {
    if (this.state !== 'after') malformed('the armor has no END PGP MESSAGE line: cut short');
    const rest = this.drain(true);
    return rest.length > 0 ? [rest] : [];
  }

  private line(line: string): void {
    const blank = line.trim() === '';
    switch (this.state) {
      case 'before':
        if (blank) return;
        if (line.trim() !== BEGIN_MESSAGE) malformed('the armor does not start with its BEGIN line');
        this.state = 'headers';
        return;
      case 'headers':
        if (blank) {
          this.state = 'body';
          return;
        }
        if (++this.headerLines > MAX_HEADER_LINES) refuse('plaintext-metadata', `the armor has more than ${MAX_HEADER_LINES} header lines`);
        if (!/^[A-Za-z][A-Za-z0-9-]*: /.test(line)) malformed('an armor header line that is not "Key: value"');
        checkFreeText(Buffer.from(line, 'latin1'), `armor header line ${this.headerLines}`);
        return;
      case 'body':
      case 'checksum':
        return this.bodyLine(line);
      case 'after':
        if (!blank) refuse('unaccounted-bytes', `text after the END PGP MESSAGE line: ${JSON.stringify(line.slice(0, 40))}`);
    }
  }

  private bodyLine(line: string): void {
    if (line === END_MESSAGE) {
      this.state = 'after';
      return;
    }
    if (this.state === 'checksum') malformed('the armor checksum line is not followed by the END line');
    if (CHECKSUM.test(line)) {
      this.state = 'checksum';
      return;
    }
    if (this.padded || !BASE64_LINE.test(line)) malformed(`an armor line that is not base64: ${JSON.stringify(line.slice(0, 40))}`);
    this.padded = line.endsWith('=');
    this.base64 += line;
  }

  private drain(all: boolean): Buffer {
    const whole = all ? this.base64.length : this.base64.length - (this.base64.length % 4);
    const out = Buffer.from(this.base64.slice(0, whole), 'base64');
    this.base64 = this.base64.slice(whole);
    return out;
  }
}

function withoutCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
