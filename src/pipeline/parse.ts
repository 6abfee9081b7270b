import type { Readable } from 'node:stream';
import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import { classifyPart, looksLikeTnef, referencedCids, type PartClass } from './attachments.js';
import { decodeLifted, liftBigParts, liftedToken } from './big-parts.js';
import { release } from '../release.js';

/**
 * Streams a message through mailparser and returns the customer's files with their part paths.
 * mailparser hands a forwarded message (message/rfc822) over as one opaque attachment, so its bytes
 * are parsed again here, to a bounded depth, and its files become files of this message.
 * Attachments are held in memory only (the message is at most 20 MB): customer bytes never reach disk
 * unencrypted.
 */
export interface ParsedAttachment {
  /** `2`, `1.2`, or `3/2` for part 2 of the message forwarded as part 3: stable for the same bytes */
  partPath: string;
  filename?: string;
  contentType: string;
  kind: Exclude<PartClass, 'ignored' | 'forwarded-message'> | 'too-deep';
  content: Buffer;
}

export interface ParsedMessage {
  /** the raw header block of the outer message */
  headers: string;
  from?: string;
  subject?: string;
  messageId?: string;
  text: string;
  attachments: ParsedAttachment[];
}

export interface ParseOptions {
  /** how many forwarded messages deep files are looked for */
  maxDepth?: number;
  /** MIME parts in all, over every forwarded message: past it the parse stops with TooManyParts */
  maxParts?: number;
  /** attachment names and header values are cut to these before anyone reads them */
  maxNameChars?: number;
  maxHeaderChars?: number;
  /** the message's size when known: its bytes are then read into one buffer, without a second copy */
  size?: number;
  /**
   * Gets the buffer the message was read into. The result may hold views of it, so it may be freed
   * (src/release.ts) only once nothing reads the result any more, e.g. after the parse thread posted it.
   */
  held?: Buffer[];
  /**
   * The stream's chunks are the parser's alone (e.g. fresh decryptions from the store): each is freed
   * (src/release.ts) once copied into the message's buffer, instead of ~20 MB of them per message
   * waiting for a collection that V8 starts only after 64 MiB more external memory.
   */
  freeChunks?: boolean;
}

/** The message has more MIME parts than `maxParts`: a refusal (`too-many-parts`), not a parse error. */
export class TooManyParts extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} MIME parts`);
    this.name = 'TooManyParts';
  }
}

interface Limits {
  maxParts: number;
  maxNameChars: number;
  maxHeaderChars: number;
  /** parts seen so far, over all levels */
  parts: number;
  /** the message's buffer (and so every part cut from it) is parseMessage's own: see decodeLifted */
  inPlace?: boolean;
}

interface RawPart {
  partId: string;
  filename?: string;
  contentType: string;
  disposition?: string;
  cid?: string;
  content: Buffer;
}

interface OneLevel {
  headers: string;
  from?: string;
  subject?: string;
  messageId?: string;
  text: string;
  html?: string;
  parts: RawPart[];
}

export const DEFAULT_MAX_DEPTH = 3;

export const DEFAULT_MAX_PARTS = 1000;

/** a store chunk (256 KiB) is its own allocation, never a slice of Node's 8 KiB buffer pool */
const CHUNK_RELEASE_BYTES = 16 * 1024;

/** base64 bodies at least this big are decoded natively, outside mailparser (big-parts.ts) */
const LIFT_BYTES = 128 * 1024;

export async function parseMessage(source: Readable | Buffer, options: ParseOptions = {}): Promise<ParsedMessage> {
  const limits: Limits = {
    maxParts: options.maxParts ?? DEFAULT_MAX_PARTS,
    maxNameChars: options.maxNameChars ?? 255,
    maxHeaderChars: options.maxHeaderChars ?? 4096,
    parts: 0,
  };
  const raw = Buffer.isBuffer(source) ? source : await readAll(source, options.size, options.freeChunks);
  if (source !== raw) options.held?.push(raw);
  // big bodies are decoded over the message's own bytes only when it is ours, not a caller's buffer
  limits.inPlace = source !== raw;
  const top = await parseLevel(raw, limits);
  const attachments = await collect(top, '', 0, options.maxDepth ?? DEFAULT_MAX_DEPTH, limits);
  return { headers: top.headers, from: top.from, subject: top.subject, messageId: top.messageId, text: top.text, attachments };
}

async function collect(level: OneLevel, prefix: string, depth: number, maxDepth: number, limits: Limits): Promise<ParsedAttachment[]> {
  const cids = referencedCids(level.html);
  const out: ParsedAttachment[] = [];
  for (const part of level.parts) {
    const partPath = prefix + part.partId;
    const kind = classifyPart(part, cids);
    if (kind === 'ignored') continue;
    if (kind === 'forwarded-message') {
      if (depth >= maxDepth) {
        out.push({ partPath, filename: part.filename ?? 'forwarded.eml', contentType: part.contentType, kind: 'too-deep', content: part.content });
        continue;
      }
      const inner = await parseLevel(part.content, limits);
      // pushed one by one: spreading a huge array into push() overflows the stack
      for (const file of await collect(inner, `${partPath}/`, depth + 1, maxDepth, limits)) out.push(file);
      continue;
    }
    const tnef = kind === 'tnef' || looksLikeTnef(part.content.subarray(0, 4));
    out.push({ partPath, filename: part.filename, contentType: part.contentType, kind: tnef ? 'tnef' : kind, content: part.content });
  }
  return out;
}

/**
 * One level, big base64 bodies decoded natively (big-parts.ts): mailparser reads the message with
 * those bodies replaced by tokens, and the result counts only if each token came back as exactly one
 * whole attachment; otherwise mailparser reads the message as it is. The lifted files are views of
 * `raw` (decoded over their own base64 lines), so `raw` is not the message any more afterwards.
 */
async function parseLevel(raw: Buffer, limits: Limits): Promise<OneLevel> {
  const lifted = liftBigParts(raw, LIFT_BYTES);
  if (!lifted) return parseWithMailparser(raw, limits);
  const partsBefore = limits.parts;
  const level = await parseWithMailparser(lifted.skeleton, limits);
  const tokens = new Map<RawPart, string>();
  const used = new Set<string>();
  let sound = true;
  for (const part of level.parts) {
    const token = liftedToken(lifted, part.content);
    if (token === undefined) continue;
    sound &&= !used.has(token);
    used.add(token);
    tokens.set(part, token);
  }
  if (sound && used.size === lifted.bodies.size) {
    // only now: decoding in place overwrites the message mailparser would otherwise read
    for (const [part, token] of tokens) part.content = decodeLifted(lifted, token, limits.inPlace === true);
    return level;
  }
  limits.parts = partsBefore;
  return parseWithMailparser(raw, limits);
}

function parseWithMailparser(source: Buffer, limits: Limits): Promise<OneLevel> {
  return new Promise((resolve, reject) => {
    // no HTML rendering of plain text, no link rewriting: only the text note and the cid: references matter.
    // maxChildNodes is mailsplit's own bound on the nodes of one level (nested multiparts included).
    const options = {
      checksumAlgo: false,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      maxHtmlLengthToParse: 2 * 1024 * 1024,
      maxChildNodes: limits.maxParts,
    };
    const parser = new MailParser(options as ConstructorParameters<typeof MailParser>[0]);
    const level: OneLevel = { headers: '', text: '', parts: [] };
    let partNo = 0;
    const pending: Promise<void>[] = [];
    parser.on('headerLines', (lines: { line: string }[]) => {
      level.headers = lines.map((l) => l.line).join('\r\n');
    });
    parser.on('headers', (headers: Map<string, unknown>) => {
      const cut = (v: string | undefined) => v?.slice(0, limits.maxHeaderChars);
      level.subject = cut(stringHeader(headers.get('subject')));
      level.messageId = cut(stringHeader(headers.get('message-id')));
      level.from = cut((headers.get('from') as { text?: string } | undefined)?.text);
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        level.text = data.text ?? '';
        level.html = typeof data.html === 'string' ? data.html : undefined;
        return;
      }
      const index = ++partNo;
      if (++limits.parts > limits.maxParts) {
        data.release?.();
        parser.destroy(new TooManyParts(limits.maxParts));
        return;
      }
      // mailparser may emit 'end' before the last attachment has been read (a message whose root is
      // the attachment), so the level is complete only when every read has finished
      pending.push(
        readAll(data.content).then(
          (content) => {
            level.parts[index - 1] = rawPart(data, content, index, limits.maxNameChars);
            data.release?.();
          },
          (err: unknown) => void parser.destroy(err as Error),
        ),
      );
    });
    parser.once('error', (err: Error & { code?: string }) => {
      // mailsplit's own node limit says the same as ours
      reject(err.code === 'EMAXLEN' && /child nodes/.test(err.message) ? new TooManyParts(limits.maxParts) : err);
    });
    parser.once('end', () => {
      Promise.all(pending).then(() => resolve({ ...level, parts: level.parts.filter(Boolean) }), reject);
    });
    parser.end(source);
  });
}

/**
 * One copy (stream/consumers' buffer() goes through a Blob and copies each byte twice more); with
 * the size known, straight into one buffer, so the chunks and their concatenation are never held at once.
 */
async function readAll(stream: AsyncIterable<Buffer>, size?: number, freeChunks = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const into = size !== undefined && size > 0 ? Buffer.allocUnsafe(size) : undefined;
  let length = 0;
  for await (const chunk of stream) {
    const n = chunk.length;
    if (into && length + n <= into.length) {
      chunk.copy(into, length);
      // empty from here on
      if (freeChunks) release(chunk, CHUNK_RELEASE_BYTES);
    } else chunks.push(chunk);
    length += n;
  }
  if (into && chunks.length === 0) return length === into.length ? into : into.subarray(0, length);
  if (into) chunks.unshift(into.subarray(0, length - chunks.reduce((n, c) => n + c.length, 0)));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

function rawPart(data: AttachmentStream, content: Buffer, index: number, maxNameChars: number): RawPart {
  const disposition = (data.headers.get('content-disposition') as { value?: string } | undefined)?.value?.toLowerCase();
  const partId = (data as AttachmentStream & { partId?: string | null }).partId ?? String(index);
  // a name of tens of thousands of characters (RFC 2231 continuations) is cut here, once, before any rule reads it
  const filename =
    data.filename === undefined
      ? undefined
      : Array.from(data.filename.slice(0, 2 * maxNameChars))
          .slice(0, maxNameChars)
          .join('');
  return { partId, filename, contentType: data.contentType, disposition, cid: data.cid, content };
}

function stringHeader(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
