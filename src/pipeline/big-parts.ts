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
  /** where each lifted body is in the message, by its token (the token's own 18 bytes, hex) */
  bodies: Map<string, Body>;
  /** the message the bodies are in */
  raw: Buffer;
}

/** A canonical base64 body: its lines are raw[start, end) and decode to `size` bytes. */
export interface Body {
  start: number;
  end: number;
  size: number;
}

const TOKEN_BYTES = 18;
const LF = 0x0a;
const CR = 0x0d;
/** a header block larger than this, more parts or deeper nesting: left to mailparser as it is */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_PARTS = 1000;
const MAX_DEPTH = 16;
const STAGING_BYTES = 64 * 1024;

interface Span extends Body {
  token: Buffer;
}

/** `undefined` when nothing is worth lifting (the caller then parses the message as it is). */
export function liftBigParts(raw: Buffer, minBytes: number): Lifted | undefined {
  const spans: Span[] = [];
  walk(raw, 0, raw.length, 0, { minBytes, spans, parts: 0 });
  if (spans.length === 0) return undefined;
  const pieces: Buffer[] = [];
  const bodies = new Map<string, Body>();
  let at = 0;
  for (const s of spans) {
    pieces.push(raw.subarray(at, s.start), Buffer.from(s.token.toString('base64'), 'latin1'));
    bodies.set(s.token.toString('hex'), { start: s.start, end: s.end, size: s.size });
    at = s.end;
  }
  pieces.push(raw.subarray(at));
  return { skeleton: Buffer.concat(pieces), bodies, raw };
}

/** The token of the lifted body mailparser's attachment content stands for, if it is one of ours. */
export function liftedToken(lifted: Lifted, content: Buffer): string | undefined {
  if (content.length !== TOKEN_BYTES) return undefined;
  const token = content.toString('hex');
  return lifted.bodies.has(token) ? token : undefined;
}

/**
 * Decodes one lifted body. `inPlace`: into the message's own memory, over its base64 lines, giving
 * a view of the decoded bytes, so a 20 MB message and its 15 MB attachment are one buffer, not two
 * (decoded bytes are fewer than the characters they come from, so each write lands on lines already
 * read). The message is then no longer what was received there: only for a buffer nobody else
 * reads, once mailparser has accepted the skeleton (the message will not be parsed as it is).
 * Otherwise into a buffer of its own.
 */
export function decodeLifted(lifted: Lifted, token: string, inPlace: boolean): Buffer {
  const body = lifted.bodies.get(token)!;
  const into = inPlace ? lifted.raw : Buffer.allocUnsafe(body.size);
  const offset = inPlace ? body.start : 0;
  let written = 0;
  const ok = eachRun(lifted.raw.subarray(body.start, body.end), (chars) => {
    written += into.write(chars, offset + written, 'base64');
    return true;
  });
  if (!ok || written !== body.size) throw new Error('a lifted base64 body decoded differently the second time');
  return into.subarray(offset, offset + written);
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
  const size = canonicalSize(raw.subarray(head.bodyStart, end));
  if (size !== undefined) w.spans.push({ start: head.bodyStart, end, size, token: randomBytes(TOKEN_BYTES) });
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

/**
 * The size the base64 lines (CRLF or LF) decode to, at native speed, without keeping the bytes;
 * `undefined` unless they are canonical base64.
 */
function canonicalSize(text: Buffer): number | undefined {
  const size = decodedSize(text);
  if (size === undefined) return undefined;
  const scratch = Buffer.allocUnsafe((STAGING_BYTES / 4) * 3);
  let written = 0;
  const ok = eachRun(text, (chars, last) => {
    // `=` only at the very end; the round trip rejects stray characters and non-zero pad bits
    if (!last && chars.includes('=')) return false;
    const got = scratch.write(chars, 0, 'base64');
    written += got;
    return scratch.toString('base64', 0, got) === chars;
  });
  return ok && written === size ? size : undefined;
}

/**
 * Hands the base64 characters of the lines to `use` in runs of whole 4-character groups (the last
 * run: whatever is left), without the line ends; stops when `use` says false. The runs are small
 * enough that their strings stay in the young generation: 1 MiB ones went to the large-object
 * space, tens of MiB of them per message, freed only by a full collection.
 */
function eachRun(text: Buffer, use: (chars: string, last: boolean) => boolean): boolean {
  const staging = Buffer.allocUnsafe(Math.min(STAGING_BYTES, text.length));
  let fill = 0;
  const flush = (last: boolean): boolean => {
    const n = last ? fill : fill - (fill % 4);
    if (!use(staging.toString('latin1', 0, n), last)) return false;
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
      if (fill === staging.length && !flush(false)) return false;
    }
    line = next;
  }
  return flush(true);
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
