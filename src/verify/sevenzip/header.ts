import { crc32 } from 'node:zlib';
import { decodeLzma } from './lzma-decode.js';
import { malformed } from '../common/malformed.js';
import { Cursor } from './cursor.js';
import { Id, readStreamsInfo, type Folder, type StreamsInfo } from './streams.js';
import type { ByteSource } from '../common/source.js';

/**
 * The 7z signature header and the header it points at, read and checked without a password:
 * both CRCs, every offset inside the file, an LZMA-compressed header decoded within a bound.
 */
export const SIGNATURE = Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]);
export const AES_CODER = '06f10701';
const LZMA_CODER = '030101';
/** A raw header is read whole; 7-Zip's for 20k files is about 1 MiB. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** LZMA-JS keeps its output as a JS array (~27 bytes per byte): 2 MiB (~20k files) costs ~50 MB and ~0.5 s. */
export const MAX_DECODED_HEADER_BYTES = 2 * 1024 * 1024;

export type HeaderView =
  /** the header itself is AES-encrypted (-mhe=on): nothing inside is visible, all of it is encrypted */
  | { kind: 'encrypted-header'; coder: Buffer }
  | { kind: 'header'; encoded: boolean; folders: Folder[] }
  | { kind: 'empty' };

export async function readHeaderView(source: ByteSource): Promise<HeaderView> {
  const start = await source.read(0, 32);
  if (start.length < 32) malformed('signature header truncated');
  if (crc32(start.subarray(12, 32)) !== start.readUInt32LE(8)) malformed('start header CRC mismatch');
  const offset = safe(start.readBigUInt64LE(12));
  const size = safe(start.readBigUInt64LE(20));
  if (size === 0) return { kind: 'empty' };
  if (size > MAX_HEADER_BYTES || 32 + offset + size > source.size) malformed(`header (${size} bytes at ${32 + offset}) outside the ${source.size}-byte file`);
  const header = await source.read(32 + offset, size);
  if (crc32(header) !== start.readUInt32LE(28)) malformed('header CRC mismatch');
  return parseHeader(header, source, 32 + offset);
}

async function parseHeader(header: Buffer, source: ByteSource, headerStart: number): Promise<HeaderView> {
  const cursor = new Cursor(header);
  const id = cursor.byte();
  if (id === Id.Header) return { kind: 'header', encoded: false, folders: mainFolders(cursor, headerStart) };
  if (id !== Id.EncodedHeader) malformed(`unknown header type 0x${id.toString(16)}`);
  const streams = readStreamsInfo(cursor);
  checkPackRange(streams, headerStart);
  const [folder, ...more] = streams.folders;
  if (!folder || more.length > 0 || streams.packSizes.length !== 1) malformed('encoded header is not one packed stream');
  const aes = folder.coders.find((coder) => coder.id === AES_CODER);
  if (aes) return { kind: 'encrypted-header', coder: aes.properties };
  const decoded = await decodeHeader(folder, streams, source);
  const inner = new Cursor(decoded);
  inner.expect(Id.Header, 'header inside the encoded header');
  return { kind: 'header', encoded: true, folders: mainFolders(inner, headerStart) };
}

async function decodeHeader(folder: Folder, streams: StreamsInfo, source: ByteSource): Promise<Buffer> {
  const [coder, ...more] = folder.coders;
  if (!coder || more.length > 0 || coder.id !== LZMA_CODER || coder.properties.length !== 5) malformed(`header compressed with an unsupported method ${folder.coders.map((c) => c.id).join('+')}`);
  const size = folder.unpackSizes[0]!;
  if (size > MAX_DECODED_HEADER_BYTES) malformed(`compressed header of ${size} bytes exceeds the ${MAX_DECODED_HEADER_BYTES}-byte bound`);
  const packed = await source.read(32 + streams.packPos, streams.packSizes[0]!);
  const decoded = decodeLzma(coder.properties, packed, size);
  if (decoded.length !== size || (folder.unpackCrc !== undefined && crc32(decoded) !== folder.unpackCrc)) malformed('compressed header does not decode to its CRC');
  return decoded;
}

/** Folders of the main streams; a header without them (only empty files) has none. */
function mainFolders(cursor: Cursor, headerStart: number): Folder[] {
  let id = cursor.byte();
  if (id === Id.ArchiveProperties) {
    for (let type = cursor.byte(); type !== Id.End; type = cursor.byte()) cursor.take(cursor.count());
    id = cursor.byte();
  }
  if (id === Id.AdditionalStreamsInfo) {
    readStreamsInfo(cursor);
    id = cursor.byte();
  }
  if (id !== Id.MainStreamsInfo) return [];
  const streams = readStreamsInfo(cursor);
  checkPackRange(streams, headerStart);
  return streams.folders;
}

/** Packed streams lie between the signature header and the header: a size that says otherwise lies. */
function checkPackRange(streams: StreamsInfo, headerStart: number): void {
  const end = streams.packSizes.reduce((sum, size) => sum + size, 32 + streams.packPos);
  if (end > headerStart) malformed(`packed streams end at ${end}, past the header at ${headerStart}`);
}

function safe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed('offset out of range');
  return Number(value);
}
