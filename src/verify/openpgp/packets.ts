import { refuse } from '../common/byte-map.js';
import { malformed } from '../common/malformed.js';
import { RandomnessMeter } from '../common/randomness.js';
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

const NOTHING = Buffer.alloc(0);

export async function* walkPackets(reader: ByteReader): AsyncGenerator<RawPacket> {
  for (let count = 0; ; count++) {
    const first = await reader.read(1);
    if (first.length === 0) return;
    if (count >= MAX_PACKETS) malformed(`more than ${MAX_PACKETS} packets`);
    const header = await readHeader(reader, first[0]!);
    yield await readBody(reader, header, count);
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

async function readBody(reader: ByteReader, header: Header, index: number): Promise<RawPacket> {
  const data = DATA_TAGS.has(header.tag);
  if (header.partial && !data) malformed(`partial length on packet tag ${header.tag}`);
  const esk = header.tag === 1 || header.tag === 3;
  if (esk && (header.length === null || header.length > ESK_MAX)) malformed(`session-key packet of ${header.length ?? 'unbounded'} bytes`);
  const keep = esk ? ESK_MAX : DATA_HEAD;
  const body = new BodyReader(reader, header.tag, index);
  if (header.length === null) return indeterminate(body, header.tag, keep);
  const parts: Buffer[] = [];
  let kept = 0;
  let chunk = { length: header.length, last: !header.partial };
  for (let chunks = 1; ; chunks++) {
    if (chunks > MAX_PARTIAL_CHUNKS) malformed(`more than ${MAX_PARTIAL_CHUNKS} partial-length chunks`);
    // past the first bytes nothing is kept: gpg's thousands of 8 KiB chunks then cost one scan each
    const head = kept < keep ? await body.read(Math.min(chunk.length, keep - kept)) : NOTHING;
    if (head.length > 0) parts.push(head);
    kept += head.length;
    const passed = await body.pass(chunk.length - head.length);
    if (head.length + passed < chunk.length) malformed(`packet tag ${header.tag} truncated`);
    if (chunk.last) return { tag: header.tag, head: Buffer.concat(parts), length: body.finish() };
    chunk = await chunkLength(reader);
  }
}

/** Legacy "indeterminate length": the body runs to the end of the stream. */
async function indeterminate(body: BodyReader, tag: number, keep: number): Promise<RawPacket> {
  const head = await body.read(keep);
  while ((await body.pass(2 ** 30)) > 0);
  return { tag, head, length: body.finish() };
}

/**
 * Where a packet body claimed to be random goes through the randomness test: encrypted data after
 * its first 4 octets (version, and for v2/AEAD the cipher, mode and chunk size; the rest, salt
 * included, is random) and padding, whose body RFC 9580 says is random. SED (tag 9) is refused for
 * lacking integrity whatever it holds, so it is not tested.
 */
const RANDOM_FROM: Readonly<Record<number, number>> = { 18: 4, 20: 4, 21: 0 };

/** Reads one packet body, its partial chunks in turn, feeding the bytes the test covers to a meter. */
class BodyReader {
  private readonly meter: RandomnessMeter | undefined;
  private position = 0;

  constructor(
    private readonly reader: ByteReader,
    private readonly tag: number,
    private readonly index: number,
  ) {
    const from = RANDOM_FROM[tag];
    this.meter = from === undefined ? undefined : new RandomnessMeter(from);
  }

  async read(length: number): Promise<Buffer> {
    const bytes = await this.reader.read(length);
    this.feed(bytes);
    return bytes;
  }

  /** Passes over up to `length` bytes (read through the meter, or skipped); returns how many there were. */
  async pass(length: number): Promise<number> {
    if (!this.meter) {
      const skipped = await this.reader.skip(length);
      this.position += skipped;
      return skipped;
    }
    return this.reader.scan(length, (bytes) => this.feed(bytes));
  }

  /** The body's length; refuses it if the bytes claimed random are not. */
  finish(): number {
    const failure = this.meter?.finish();
    if (failure)
      refuse(
        'not-ciphertext',
        `the body of packet ${this.index + 1} (${TAG_NAMES[this.tag]}) does not look like ciphertext: ${failure} (offsets within the body)`,
      );
    return this.position;
  }

  private feed(bytes: Buffer): void {
    const from = RANDOM_FROM[this.tag];
    if (this.meter && from !== undefined) this.meter.push(bytes.subarray(Math.max(0, from - this.position)));
    this.position += bytes.length;
  }
}

const TAG_NAMES: Readonly<Record<number, string>> = { 18: 'encrypted data, SEIPD', 20: 'encrypted data, AEAD', 21: 'padding' };

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
