import { Transform, type TransformCallback } from 'node:stream';

/**
 * Bare CR and bare LF in message data: smtp-server passes them through (only CRLF.CRLF ends the
 * data), but a message carrying them is SMTP smuggling material once it is relayed or quoted by
 * a server that splits on them (CVE-2023-51764/5/6). This guard sits in the data stream before
 * the spool:
 *   'reject'    passes the bytes through unchanged and sets `found`; the door then answers
 *               550 5.6.0 and keeps nothing.
 *   'normalize' rewrites each bare CR and bare LF to CRLF (`found` and `count` say it did).
 * Streaming with one bit of state (was the previous chunk's last byte a CR?), so a CRLF split
 * across chunks is still a CRLF and memory stays constant.
 */
export type LineEndingMode = 'reject' | 'normalize';

const CR = 0x0d;
const LF = 0x0a;

/** Does `buf` hold a bare CR or LF, given whether the byte before it was a CR? A final CR is left open. */
export function hasBareLineEnding(buf: Buffer, prevCR: boolean): boolean {
  if (buf.length === 0) return false;
  if (prevCR && buf[0] !== LF) return true;
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 ? !prevCR : buf[i - 1] !== CR) return true;
  }
  for (let i = buf.indexOf(CR); i !== -1 && i < buf.length - 1; i = buf.indexOf(CR, i + 1)) {
    if (buf[i + 1] !== LF) return true;
  }
  return false;
}

export class LineEndingGuard extends Transform {
  /** A bare CR or LF was seen (in 'normalize': and rewritten). */
  found = false;
  /** How many were rewritten ('normalize' only). */
  count = 0;
  private prevCR = false;

  constructor(readonly mode: LineEndingMode) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length === 0) return callback();
    const bare = (this.mode === 'normalize' || !this.found) && hasBareLineEnding(chunk, this.prevCR);
    const out = bare && this.mode === 'normalize' ? this.rewrite(chunk) : chunk;
    if (bare) this.found = true;
    this.prevCR = chunk[chunk.length - 1] === CR;
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    if (this.prevCR) {
      this.found = true; // the data ended in a CR
      if (this.mode === 'normalize') {
        this.count += 1;
        this.push(Buffer.from([LF]));
      }
    }
    callback();
  }

  // Each byte becomes at most two: a LF completing a bare CR before it, or a CR before a bare LF.
  private rewrite(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let o = 0;
    let prev = this.prevCR;
    for (const b of chunk) {
      if (prev && b !== LF) out[o++] = LF;
      if (!prev && b === LF) out[o++] = CR;
      if ((prev && b !== LF) || (!prev && b === LF)) this.count += 1;
      out[o++] = b;
      prev = b === CR;
    }
    return out.subarray(0, o);
  }
}
