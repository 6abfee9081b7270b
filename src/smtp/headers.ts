import { Transform, type TransformCallback } from 'node:stream';
import libmime from 'libmime';

/**
 * Reads the header block of a message as it streams past, so the door can check the Subject and
 * the automatic-mail headers without buffering the message. Every byte passes through unchanged.
 *
 * The block ends at the first empty line (CRLF CRLF, LF LF, or a mix); a message without one is all
 * header and ends with the stream. The reader emits exactly one of:
 *   'headers'       (headers: ParsedHeaders)  when the block has ended within `maxBytes`;
 *   'headersTooBig' (bytes: number)           as soon as it is certain the block is larger.
 * Its size counts the header lines with their line endings, not the empty line. At most
 * `maxBytes + 2` bytes are held, never the body.
 *
 * Boundary detection is a small scanner; parsing the block (unfolding, names) is libmime's
 * `decodeHeaders`. mailsplit was not used: it re-emits the message as parsed MIME nodes rather than
 * passing bytes through, and parses far more than the door needs.
 */
export interface ParsedHeaders {
  /** The first field of that name (case-insensitive), unfolded, MIME words not decoded. */
  get(name: string): string | undefined;
  getAll(name: string): string[];
  /** The header block as text (UTF-8, as SMTPUTF8 senders write it), without the empty line. */
  raw: string;
}

const CR = 0x0d;
const LF = 0x0a;
// RFC 5322 field names: printable ASCII except ':' and space. Drops an mbox "From " line and junk.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

export function parseHeaders(raw: string): ParsedHeaders {
  const fields = new Map<string, string[]>();
  // libmime would end a line (and the block) at a bare CR; the boundary scanner, like the worker's
  // parser, ends lines at LF only. A bare CR is a space here, so both see the same fields.
  const lines = raw.replace(/\r(?!\n)/g, ' ');
  for (const [name, values] of Object.entries(libmime.decodeHeaders(lines))) {
    if (FIELD_NAME.test(name)) fields.set(name, values);
  }
  return {
    get: (name) => fields.get(name.toLowerCase())?.[0],
    getAll: (name) => [...(fields.get(name.toLowerCase()) ?? [])],
    raw,
  };
}

export class HeaderReader extends Transform {
  headers: ParsedHeaders | undefined;
  tooBig = false;
  private reading = true;
  private held: Buffer[] = [];
  private seen = 0; // bytes scanned so far
  private lineStart = 0; // offset of the current line
  private lineFirst = -1; // its first byte, -1 while it is empty

  constructor(readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.reading) this.scan(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.reading) this.finish(this.seen);
    callback();
  }

  private scan(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      const offset = this.seen + i;
      if (b !== LF) {
        if (this.lineFirst === -1) this.lineFirst = b;
        continue;
      }
      const length = offset - this.lineStart;
      if (length === 0 || (length === 1 && this.lineFirst === CR)) {
        this.held.push(chunk.subarray(0, i));
        return this.finish(this.lineStart);
      }
      this.lineStart = offset + 1;
      this.lineFirst = -1;
    }
    this.seen += chunk.length;
    this.held.push(chunk);
    if (this.seen > this.maxBytes + 2) this.fail(this.seen);
  }

  private finish(headerBytes: number): void {
    if (headerBytes > this.maxBytes) return this.fail(headerBytes);
    const raw = Buffer.concat(this.held).subarray(0, headerBytes).toString('utf8');
    this.reading = false;
    this.held = [];
    this.headers = parseHeaders(raw);
    this.emit('headers', this.headers);
  }

  private fail(bytes: number): void {
    this.reading = false;
    this.held = [];
    this.tooBig = true;
    this.emit('headersTooBig', bytes);
  }
}
