import { malformed } from '../common/malformed.js';
import type { ByteReader } from './reader.js';

/**
 * OpenPGP packet framing (RFC 9580 §4.2), walked by hand so that only headers and the first bytes
 * of each body are read: openpgp.js's readMessage would pull the whole message into memory first.
 * Bodies themselves are parsed by openpgp.js (openpgp-fields.ts).
 */

export interface RawPacket {
  tag: number;
  /** the first bytes of the body (all of it for session-key packets, 64 bytes of the others) */
  head: Buffer;
  /** the whole body length, partial chunks added up */
  length: number;
}

/** Data packets: the only ones allowed partial lengths, and whose bodies are skipped. */
export const DATA_TAGS: ReadonlySet<number> = new Set([8, 9, 11, 18, 20]);
/** enough for a SEIPD v2 / AEAD header (version, cipher, mode, chunk size, 32-byte salt) */
const DATA_HEAD = 64;
/** a session-key packet is small (a post-quantum PKESK is under 2 KiB): more is an attack */
const ESK_MAX = 16 * 1024;
/** more packets than any message carries, to bound the walk over hostile input */
export const MAX_PACKETS = 1024;
/**
 * gpg and openpgp.js write partial chunks of at least 512 bytes, so 2^16 chunks cover 32 MiB, more
 * than a mailed attachment; more chunks than that is an attack on walk time (1-byte chunks).
 */
export const MAX_PARTIAL_CHUNKS = 65536;

interface Header {
  tag: number;
  /** body length, or the first chunk's for partial lengths; null = to the end of the stream */
  length: number | null;
  partial: boolean;
}

export async function* walkPackets(reader: ByteReader): AsyncGenerator<RawPacket> {
  for (let count = 0; ; count++) {
    const first = await reader.read(1);
    if (first.length === 0) return;
    if (count >= MAX_PACKETS) malformed(`more than ${MAX_PACKETS} packets`);
    const header = await readHeader(reader, first[0]!);
    yield await readBody(reader, header);
  }
}

async function readHeader(reader: ByteReader, octet: number): Promise<Header> {
  if ((octet & 0x80) === 0) malformed('not a packet header');
  if (octet & 0x40) return newFormat(reader, octet & 0x3f);
  const tag = (octet >> 2) & 0x0f;
  const type = octet & 0x03;
  if (type === 3) return { tag, length: null, partial: false };
  return { tag, length: await bigEndian(reader, [1, 2, 4][type]!), partial: false };
}

async function newFormat(reader: ByteReader, tag: number): Promise<Header> {
  const o1 = await byte(reader);
  if (o1 < 192) return { tag, length: o1, partial: false };
  if (o1 < 224) return { tag, length: ((o1 - 192) << 8) + (await byte(reader)) + 192, partial: false };
  if (o1 === 255) return { tag, length: await bigEndian(reader, 4), partial: false };
  return { tag, length: 2 ** (o1 & 0x1f), partial: true };
}

/** The length of the next partial-body chunk (same encoding, without the tag octet). */
async function chunkLength(reader: ByteReader): Promise<{ length: number; last: boolean }> {
  const o1 = await byte(reader);
  if (o1 < 192) return { length: o1, last: true };
  if (o1 < 224) return { length: ((o1 - 192) << 8) + (await byte(reader)) + 192, last: true };
  if (o1 === 255) return { length: await bigEndian(reader, 4), last: true };
  return { length: 2 ** (o1 & 0x1f), last: false };
}

async function readBody(reader: ByteReader, header: Header): Promise<RawPacket> {
  const data = DATA_TAGS.has(header.tag);
  if (header.partial && !data) malformed(`partial length on packet tag ${header.tag}`);
  const esk = header.tag === 1 || header.tag === 3;
  if (esk && (header.length === null || header.length > ESK_MAX)) malformed(`session-key packet of ${header.length ?? 'unbounded'} bytes`);
  const keep = esk ? ESK_MAX : DATA_HEAD;
  if (header.length === null) return indeterminate(reader, header.tag, keep);
  const parts: Buffer[] = [];
  let kept = 0;
  let total = 0;
  let chunk = { length: header.length, last: !header.partial };
  for (let chunks = 1; ; chunks++) {
    if (chunks > MAX_PARTIAL_CHUNKS) malformed(`more than ${MAX_PARTIAL_CHUNKS} partial-length chunks`);
    const head = await reader.read(Math.min(chunk.length, Math.max(0, keep - kept)));
    parts.push(head);
    kept += head.length;
    const skipped = await reader.skip(chunk.length - head.length);
    if (head.length + skipped < chunk.length) malformed(`packet tag ${header.tag} truncated`);
    total += chunk.length;
    if (chunk.last) return { tag: header.tag, head: Buffer.concat(parts), length: total };
    chunk = await chunkLength(reader);
  }
}

/** Legacy "indeterminate length": the body runs to the end of the stream. */
async function indeterminate(reader: ByteReader, tag: number, keep: number): Promise<RawPacket> {
  const head = await reader.read(keep);
  let length = head.length;
  for (let skipped = await reader.skip(2 ** 30); skipped > 0; skipped = await reader.skip(2 ** 30)) length += skipped;
  return { tag, head, length };
}

async function byte(reader: ByteReader): Promise<number> {
  const one = await reader.read(1);
  if (one.length === 0) malformed('packet header truncated');
  return one[0]!;
}

async function bigEndian(reader: ByteReader, size: number): Promise<number> {
  const bytes = await reader.read(size);
  if (bytes.length < size) malformed('packet header truncated');
  return bytes.readUIntBE(0, size);
}
