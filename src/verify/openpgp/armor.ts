import { refuse } from '../common/byte-map.js';
import { checkFreeText } from '../common/free-text.js';
import { malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';

/**
 * ASCII armor (RFC 9580 §6), read line by line so that every byte of it is accounted for: blank
 * lines, the BEGIN line, at most a few header lines (each a short label: free-text rule), a blank
 * line, base64 lines, an optional "=XXXX" checksum line, the END line, and nothing but blank lines
 * after it. The base64 is decoded as it is read, so a large armored attachment is never held whole.
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
const CHUNK = 64 * 1024;

/** The armor type ('MESSAGE', 'SIGNED MESSAGE', 'PUBLIC KEY BLOCK' …) if the bytes start with armor. */
export function armorType(head: Buffer): string | undefined {
  return BEGIN.exec(head.toString('latin1'))?.[1];
}

type State = 'before' | 'headers' | 'body' | 'checksum' | 'after';

/** The decoded bytes of an armored PGP MESSAGE, as a stream; armor that breaks the rules errors it. */
export function unarmoredStream(source: ByteSource): ReadableStream<Uint8Array> {
  const armor = new ArmorLines();
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return (async () => {
        for (;;) {
          const chunk = await source.read(offset, CHUNK);
          offset += chunk.length;
          const decoded = chunk.length === 0 ? armor.end() : armor.push(chunk.toString('latin1'), offset);
          if (decoded.length > 0) controller.enqueue(decoded);
          if (chunk.length === 0) return controller.close();
          if (decoded.length > 0) return;
        }
      })().catch((err: unknown) => controller.error(err));
    },
  });
}

class ArmorLines {
  private state: State = 'before';
  private carry = '';
  private base64 = '';
  private headerLines = 0;
  private padded = false;

  push(text: string, endOffset: number): Buffer {
    const lines = (this.carry + text).split('\n');
    this.carry = lines.pop()!;
    if (this.carry.length > MAX_LINE) malformed(`an armor line longer than ${MAX_LINE} characters, before offset ${endOffset}`);
    for (const line of lines) this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
    return this.drain(false);
  }

  end(): Buffer {
    if (this.carry.length > 0) this.line(this.carry.endsWith('\r') ? this.carry.slice(0, -1) : this.carry);
    this.carry = '';
    if (this.state !== 'after') malformed('the armor has no END PGP MESSAGE line: cut short');
    return this.drain(true);
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
