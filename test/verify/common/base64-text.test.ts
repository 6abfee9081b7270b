import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64Lines, decodeIfPlain, textPieces } from '../../../src/verify/common/base64-text.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** base64 of `bytes` in lines of `width` with `eol` after each */
function wrapped(bytes: Buffer, width: number, eol: string): string {
  const text = bytes.toString('base64');
  let out = '';
  for (let at = 0; at < text.length; at += width) out += text.slice(at, at + width) + eol;
  return out;
}

describe('base64 text decoded a stretch at a time', () => {
  it('decodes lines of any width, LF or CRLF, cut anywhere, as the stripped text decodes', () => {
    for (const width of [4, 63, 64, 76, 1000]) {
      for (const eol of ['\n', '\r\n']) {
        const bytes = randomBytes(5000);
        const text = wrapped(bytes, width, eol);
        for (const cut of [1, 7, 333, 4096]) {
          let pending = '';
          const parts: Buffer[] = [];
          for (let at = 0; at < text.length; at += cut) {
            const lines = decodeBase64Lines(text.slice(at, at + cut), pending);
            parts.push(lines.bytes);
            pending = lines.pending;
          }
          parts.push(Buffer.from(pending, 'base64'));
          expect(Buffer.concat(parts).equals(bytes), `width ${width}, cut ${cut}`).toBe(true);
        }
      }
    }
  });

  it('takes the no-scan path only for base64 letters and line ends: every other byte, anywhere, sends it to the line rules', () => {
    // this pins the property of Node's decoder that decodeIfPlain stands on (it skips what it cannot decode)
    const text = wrapped(randomBytes(48), 16, '\n');
    expect(decodeIfPlain(text, '')?.bytes.length).toBe(48);
    const allowed = new Set([...LETTERS, '\n'].map((char) => char.charCodeAt(0)));
    for (let value = 0; value < 256; value++) {
      if (allowed.has(value)) continue;
      const char = String.fromCharCode(value);
      for (let at = 0; at <= text.length; at++) {
        const crlf = (next: string | undefined) => char === '\r' && next === '\n'; // a CRLF line end is allowed
        if (!crlf(text[at])) expect(decodeIfPlain(text.slice(0, at) + char + text.slice(at), ''), `0x${value.toString(16)} at ${at}`).toBeUndefined();
        if (at < text.length && text[at] !== '\n' && !crlf(text[at + 1]))
          expect(decodeIfPlain(text.slice(0, at) + char + text.slice(at + 1), ''), `0x${value.toString(16)} over ${at}`).toBeUndefined();
      }
    }
  });

  it('cuts text into pieces of whole lines, inside a line only when it has no line end', () => {
    const bytes = Buffer.from(wrapped(randomBytes(200_000), 64, '\n') + 'x'.repeat(70_000), 'latin1');
    const pieces = [...textPieces(bytes, bytes.length)];
    expect(pieces.map((piece) => piece.text).join('')).toBe(bytes.toString('latin1'));
    expect(pieces.slice(0, -2).every((piece) => piece.text.endsWith('\n') && !piece.cut)).toBe(true);
    expect(pieces.at(-2)?.cut).toBe(true);
  });
});
