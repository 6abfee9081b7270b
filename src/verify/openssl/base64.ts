import type { ByteSource } from '../common/source.js';

const SALTED = Buffer.from('Salted__');
type Problem = { problem: string };
const EOL_SAMPLES = 16;

/**
 * The decoded length of `openssl enc -a` output without decoding it: openssl writes lines of 64
 * characters (or one line with -A), so the length follows from the file size, the line width and
 * the padding. The first block must decode to "Salted__"; line ends are checked at evenly spaced
 * lines; a layout that is not regular is counted character by character instead.
 */
export async function base64DecodedLength(source: ByteSource): Promise<number | Problem> {
  const first = await source.read(0, 4096);
  if (
    !Buffer.from(first.toString('latin1', 0, 12), 'base64')
      .subarray(0, 8)
      .equals(SALTED)
  )
    return { problem: 'the base64 text does not decode to "Salted__"' };
  const contentEnd = await trimmedEnd(source);
  const lineEnd = first.indexOf(0x0a);
  const chars = lineEnd < 0 || lineEnd >= contentEnd ? await singleLine(source, contentEnd) : await regularLines(source, first, lineEnd, contentEnd);
  return typeof chars === 'number' ? decodedFromChars(chars, await padding(source, contentEnd)) : chars;
}

async function regularLines(source: ByteSource, first: Buffer, lineEnd: number, contentEnd: number): Promise<number | Problem> {
  const eol = first[lineEnd - 1] === 0x0d ? 2 : 1;
  const width = lineEnd - (eol - 1);
  const stride = width + eol;
  const fullLines = Math.floor(contentEnd / stride);
  const lastLength = contentEnd - fullLines * stride;
  if (width === 0 || lastLength > width || !(await linesEndWhereExpected(source, fullLines, stride, width, eol))) return countChars(source, contentEnd);
  return fullLines * width + lastLength;
}

async function linesEndWhereExpected(source: ByteSource, fullLines: number, stride: number, width: number, eol: number): Promise<boolean> {
  const eolText = eol === 2 ? '\r\n' : '\n';
  const lineOk = (bytes: Buffer): boolean => isBase64(bytes.subarray(0, width)) && bytes.subarray(width).toString('latin1') === eolText;
  const step = Math.max(1, Math.floor(fullLines / EOL_SAMPLES));
  for (let line = 0; line < fullLines; line += step) {
    if (!lineOk(await source.read(line * stride, stride))) return false;
  }
  return fullLines === 0 || lineOk(await source.read((fullLines - 1) * stride, stride));
}

/** `-A`: one line. Evenly spaced samples must hold no line end. */
async function singleLine(source: ByteSource, contentEnd: number): Promise<number | Problem> {
  for (let i = 0; i < EOL_SAMPLES; i++) {
    const bytes = await source.read(Math.floor((contentEnd * i) / EOL_SAMPLES), 64);
    if (!isBase64(bytes.subarray(0, Math.min(64, contentEnd)))) return countChars(source, contentEnd);
  }
  return contentEnd;
}

/** Fallback for irregular layouts: counts base64 characters in 64 KiB reads, refusing anything else. */
async function countChars(source: ByteSource, contentEnd: number): Promise<number | Problem> {
  let chars = 0;
  for (let offset = 0; offset < contentEnd; offset += 65536) {
    for (const byte of await source.read(offset, Math.min(65536, contentEnd - offset))) {
      if (isBase64Char(byte) || byte === 0x3d) chars++;
      else if (byte !== 0x0a && byte !== 0x0d) return { problem: `a byte that is not base64 (0x${byte.toString(16)}) in the text` };
    }
  }
  return chars;
}

function decodedFromChars(chars: number, pad: number): number | Problem {
  if (chars % 4 !== 0) return { problem: `${chars} base64 characters is not a whole number of 4-character groups: cut short` };
  return (chars / 4) * 3 - pad;
}

async function trimmedEnd(source: ByteSource): Promise<number> {
  const tail = await source.read(Math.max(0, source.size - 64), 64);
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 0x0a || tail[end - 1] === 0x0d || tail[end - 1] === 0x20)) end--;
  return source.size - (tail.length - end);
}

async function padding(source: ByteSource, contentEnd: number): Promise<number> {
  const last = await source.read(Math.max(0, contentEnd - 2), 2);
  return [...last].filter((byte) => byte === 0x3d).length;
}

function isBase64(bytes: Buffer): boolean {
  return bytes.every((byte) => isBase64Char(byte) || byte === 0x3d);
}

function isBase64Char(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2b || byte === 0x2f;
}
