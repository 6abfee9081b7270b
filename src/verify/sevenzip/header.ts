import { crc32 } from 'node:zlib';
import { malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';
import { Cursor } from './cursor.js';
import { checkFilesInfo } from './files-info.js';
import { decodeLzma } from './lzma-decode.js';
import { Id, readStreamsInfo, type Folder, type StreamsInfo } from './streams.js';

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

/** Where the header is: right after the signature header's pointer, to the end of the file. */
export interface HeaderPlace {
  start: number;
  size: number;
}

export type HeaderView =
  /** the header itself is AES-encrypted (-mhe=on): only its own packed stream is described */
  | { kind: 'encrypted-header'; place: HeaderPlace; headerStreams: StreamsInfo; coder: Buffer }
  /** `headerStreams`: the packed stream of an LZMA-compressed header (`encoded`), else none */
  | { kind: 'header'; place: HeaderPlace; encoded: boolean; headerStreams?: StreamsInfo; main?: StreamsInfo; folders: Folder[]; freeText: string[] }
  | { kind: 'empty'; place: HeaderPlace };

export async function readHeaderView(source: ByteSource): Promise<HeaderView> {
  const start = await source.read(0, 32);
  if (start.length < 32) malformed('signature header truncated');
  if (crc32(start.subarray(12, 32)) !== start.readUInt32LE(8)) malformed('start header CRC mismatch');
  const offset = safe(start.readBigUInt64LE(12));
  const size = safe(start.readBigUInt64LE(20));
  const place = { start: 32 + offset, size };
  if (size === 0) return { kind: 'empty', place };
  if (size > MAX_HEADER_BYTES || 32 + offset + size > source.size) malformed(`header (${size} bytes at ${32 + offset}) outside the ${source.size}-byte file`);
  const header = await source.read(32 + offset, size);
  if (crc32(header) !== start.readUInt32LE(28)) malformed('header CRC mismatch');
  return parseHeader(header, source, place);
}

async function parseHeader(header: Buffer, source: ByteSource, place: HeaderPlace): Promise<HeaderView> {
  const cursor = new Cursor(header);
  const id = cursor.byte();
  if (id === Id.Header) return { kind: 'header', place, encoded: false, ...mainStreams(cursor, place.start) };
  if (id !== Id.EncodedHeader) malformed(`unknown header type 0x${id.toString(16)}`);
  const headerStreams = readStreamsInfo(cursor);
  checkPackRange(headerStreams, place.start);
  const [folder, ...more] = headerStreams.folders;
  if (!folder || more.length > 0 || headerStreams.packSizes.length !== 1) malformed('encoded header is not one packed stream');
  const aes = folder.coders.find((coder) => coder.id === AES_CODER);
  if (aes) return { kind: 'encrypted-header', place, headerStreams, coder: aes.properties };
  const decoded = await decodeHeader(folder, headerStreams, source);
  const inner = new Cursor(decoded);
  inner.expect(Id.Header, 'header inside the encoded header');
  return { kind: 'header', place, encoded: true, headerStreams, ...mainStreams(inner, place.start) };
}

async function decodeHeader(folder: Folder, streams: StreamsInfo, source: ByteSource): Promise<Buffer> {
  const [coder, ...more] = folder.coders;
  if (!coder || more.length > 0 || coder.id !== LZMA_CODER || coder.properties.length !== 5)
    malformed(`header compressed with an unsupported method ${folder.coders.map((c) => c.id).join('+')}`);
  const size = folder.unpackSizes[0]!;
  if (size > MAX_DECODED_HEADER_BYTES) malformed(`compressed header of ${size} bytes exceeds the ${MAX_DECODED_HEADER_BYTES}-byte bound`);
  const packed = await source.read(32 + streams.packPos, streams.packSizes[0]!);
  const decoded = decodeLzma(coder.properties, packed, size);
  if (decoded.length !== size || (folder.unpackCrc !== undefined && crc32(decoded) !== folder.unpackCrc))
    malformed('compressed header does not decode to its CRC');
  return decoded;
}

/**
 * The main streams' folders, then the files' properties, to the header's last byte (nothing may
 * follow its end mark). `freeText` lists what the byte map refuses in an archive about to be
 * accepted: archive properties and additional streams (7-Zip writes neither, and both are bytes of
 * no fixed meaning), and files' properties that break their rules (files-info.ts).
 */
function mainStreams(cursor: Cursor, headerStart: number): { main?: StreamsInfo; folders: Folder[]; freeText: string[] } {
  const freeText: string[] = [];
  let id = cursor.byte();
  if (id === Id.ArchiveProperties) {
    for (let type = cursor.byte(); type !== Id.End; type = cursor.byte())
      freeText.push(`archive property 0x${type.toString(16)} of ${cursor.take(cursor.count()).length} bytes`);
    id = cursor.byte();
  }
  if (id === Id.AdditionalStreamsInfo) {
    readStreamsInfo(cursor);
    freeText.push('additional streams, which 7-Zip never writes');
    id = cursor.byte();
  }
  let main: StreamsInfo | undefined;
  if (id === Id.MainStreamsInfo) {
    main = readStreamsInfo(cursor);
    checkPackRange(main, headerStart);
    id = cursor.byte();
  }
  if (id === Id.FilesInfo) {
    freeText.push(...checkFilesInfo(cursor));
    id = cursor.byte();
  }
  if (id !== Id.End) malformed(`unexpected property 0x${id.toString(16)} in the header`);
  if (cursor.remaining > 0) malformed(`${cursor.remaining} bytes after the end of the header`);
  return { main, folders: main?.folders ?? [], freeText };
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
