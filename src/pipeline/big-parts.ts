import { randomBytes } from 'node:crypto';
import libmime from 'libmime';

/**
 * The fast path for big base64 attachments. mailparser (mailsplit) walks every line of a 20 MB
 * part in JavaScript and decodes it through strings; Node decodes base64 natively at several GiB/s.
 * So before mailparser sees a message, each big base64 body of a leaf part is decoded here and
 * replaced by a short random token (itself base64), and mailparser parses the small remainder for
 * everything it is needed for: structure, headers, names, encodings, text.
 *
 * Nothing here decides anything: the caller takes a lifted body only where mailparser emitted
 * exactly that token as a whole attachment, and parses the original otherwise. That is sound because
 * a lifted body and its token are both lines of the base64 alphabet only (never a boundary, which
 * starts with `--`), so mailsplit splits both messages alike. A body decodes here only when it
 * re-encodes to exactly its own characters (canonical base64, `=` only at its end), which is when
 * mailparser's decoder gives the same bytes; anything else stays in the message, for mailparser.
 */
export interface Lifted {
  /** the message with each lifted body replaced by its token line */
  skeleton: Buffer;
  /** decoded bodies by their token (the token's own 18 bytes, hex) */
  bodies: Map<string, Buffer>;
}

const TOKEN_BYTES = 18;
const LF = 0x0a;
const CR = 0x0d;
/** a header block larger than this, more parts or deeper nesting: left to mailparser as it is */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_PARTS = 1000;
const MAX_DEPTH = 16;
const STAGING_BYTES = 64 * 1024;

interface Span {
  start: number;
  end: number;
  token: Buffer;
  body: Buffer;
}

/** `undefined` when nothing is worth lifting (the caller then parses the message as it is). */
export function liftBigParts(raw: Buffer, minBytes: number): Lifted | undefined {
  const spans: Span[] = [];
  walk(raw, 0, raw.length, 0, { minBytes, spans, parts: 0 });
  if (spans.length === 0) return undefined;
  const pieces: Buffer[] = [];
  const bodies = new Map<string, Buffer>();
  let at = 0;
  for (const s of spans) {
    pieces.push(raw.subarray(at, s.start), Buffer.from(s.token.toString('base64'), 'latin1'));
    bodies.set(s.token.toString('hex'), s.body);
    at = s.end;
  }
  pieces.push(raw.subarray(at));
  return { skeleton: Buffer.concat(pieces), bodies };
}

/** The lifted body mailparser's attachment content stands for, if it is one of our tokens. */
export function liftedBody(lifted: Lifted, content: Buffer): Buffer | undefined {
  return content.length === TOKEN_BYTES ? lifted.bodies.get(content.toString('hex')) : undefined;
}

interface Walk {
  minBytes: number;
  spans: Span[];
  parts: number;
}

function walk(raw: Buffer, start: number, end: number, depth: number, w: Walk): void {
  if (depth > MAX_DEPTH || ++w.parts > MAX_PARTS) return;
  const head = headerEnd(raw, start, end);
  if (head === undefined) return;
  const fields = headerFields(raw.toString('latin1', start, head.headerEnd));
  if (fields === undefined) return;
  const type = libmime.parseHeaderValue(fields.type ?? '');
  const mediaType = type.value.toLowerCase().trim();
  if (mediaType.startsWith('multipart/')) {
    const boundary = (type.params.boundary ?? '').trimEnd();
    if (boundary !== '' && Buffer.byteLength(boundary) === boundary.length) {
      for (const [s, e] of childSpans(raw, head.bodyStart, end, boundary)) walk(raw, s, e, depth + 1, w);
    }
    return;
  }
  const leaf = mediaType !== '' && !mediaType.startsWith('text/') && !mediaType.startsWith('message/');
  if (!leaf || fields.encoding?.toLowerCase().trim() !== 'base64' || end - head.bodyStart < w.minBytes) return;
  const body = decodeLines(raw.subarray(head.bodyStart, end));
  if (body) w.spans.push({ start: head.bodyStart, end, token: randomBytes(TOKEN_BYTES), body });
}

/** End of the header block (at the first empty line) and start of the body; lines end at LF. */
function headerEnd(raw: Buffer, start: number, end: number): { headerEnd: number; bodyStart: number } | undefined {
  let line = start;
  while (line < end && line - start <= MAX_HEADER_BYTES) {
    const lf = raw.indexOf(LF, line);
    if (lf < 0 || lf >= end) return undefined;
    if (lf === line || (lf === line + 1 && raw[line] === CR)) return { headerEnd: line, bodyStart: lf + 1 };
    line = lf + 1;
  }
  return undefined;
}

/** Content-Type and Content-Transfer-Encoding, unfolded; `undefined` when either is there twice. */
function headerFields(block: string): { type?: string; encoding?: string } | undefined {
  const out: { type?: string; encoding?: string } = {};
  const unfolded = block.replace(/\r?\n(?=[ \t])/g, '');
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const key = name === 'content-type' ? 'type' : name === 'content-transfer-encoding' ? 'encoding' : undefined;
    if (key === undefined) continue;
    if (out[key] !== undefined) return undefined;
    out[key] = line.slice(colon + 1).replace(/\r$/, '');
  }
  return out;
}

/**
 * The parts between `--boundary` lines (RFC 2046 5.1.1); each part's last line break belongs to the
 * delimiter after it. Ends at the close delimiter, or at the end of the region.
 */
function childSpans(raw: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  const spans: [number, number][] = [];
  let partStart = -1;
  for (let at = raw.indexOf(dash, start); at >= 0 && at < end; at = raw.indexOf(dash, at + 1)) {
    if (at !== start && raw[at - 1] !== LF) continue;
    const rest = delimiterRest(raw, at + dash.length, end);
    if (rest === undefined) continue;
    if (partStart >= 0) spans.push([partStart, Math.max(partStart, at - (raw[at - 2] === CR ? 2 : 1))]);
    if (rest.close) return spans;
    partStart = rest.next;
  }
  return spans;
}

/** After `--boundary`: optional `--`, spaces or tabs, then the line end. */
function delimiterRest(raw: Buffer, at: number, end: number): { close: boolean; next: number } | undefined {
  let i = at;
  const close = raw[i] === 0x2d && raw[i + 1] === 0x2d;
  if (close) i += 2;
  while (i < end && (raw[i] === 0x20 || raw[i] === 0x09)) i++;
  if (i < end && raw[i] === CR) i++;
  if (i >= end) return { close, next: end };
  return raw[i] === LF ? { close, next: i + 1 } : undefined;
}

/** Decodes base64 lines (CRLF or LF) at native speed; `undefined` unless they are canonical base64. */
function decodeLines(text: Buffer): Buffer | undefined {
  const size = decodedSize(text);
  if (size === undefined) return undefined;
  // exactly the decoded size, so the buffer owns its whole memory and moves to the main thread without a copy
  const out = Buffer.allocUnsafe(size);
  // small enough that its strings stay in the young generation: 1 MiB ones went to the large-object
  // space, tens of MiB of them per message, freed only by a full collection
  const staging = Buffer.allocUnsafe(Math.min(STAGING_BYTES, text.length));
  let fill = 0;
  let written = 0;
  const flush = (last: boolean): boolean => {
    const n = last ? fill : fill - (fill % 4);
    const chars = staging.toString('latin1', 0, n);
    // `=` only at the very end; the round trip rejects stray characters and non-zero pad bits
    if (!last && chars.includes('=')) return false;
    const got = out.write(chars, written, 'base64');
    if (out.toString('base64', written, written + got) !== chars) return false;
    written += got;
    staging.copy(staging, 0, n, fill);
    fill -= n;
    return true;
  };
  for (let line = 0; line < text.length;) {
    const lf = text.indexOf(LF, line);
    const next = lf < 0 ? text.length : lf + 1;
    const stop = lf > line && text[lf - 1] === CR ? lf - 1 : lf < 0 ? text.length : lf;
    for (let at = line; at < stop;) {
      const n = text.copy(staging, fill, at, Math.min(stop, at + staging.length - fill));
      fill += n;
      at += n;
      if (fill === staging.length && !flush(false)) return undefined;
    }
    line = next;
  }
  return flush(true) && written === size ? out : undefined;
}

/** The bytes the lines decode to, from their count of base64 characters and the final padding. */
function decodedSize(text: Buffer): number | undefined {
  let breaks = 0;
  for (let lf = text.indexOf(LF); lf >= 0; lf = text.indexOf(LF, lf + 1)) breaks += lf > 0 && text[lf - 1] === CR ? 2 : 1;
  const chars = text.length - breaks;
  if (chars % 4 !== 0) return undefined;
  let end = text.length;
  while (end > 0 && (text[end - 1] === LF || text[end - 1] === CR)) end--;
  const pad = (text[end - 1] === 0x3d ? 1 : 0) + (text[end - 2] === 0x3d ? 1 : 0);
  return (chars / 4) * 3 - pad;
}
