import { malformed } from '../common/malformed.js';
import type { Cursor } from './cursor.js';

/** Property ids of 7z headers (7zFormat.txt). */
export const Id = {
  End: 0x00,
  Header: 0x01,
  ArchiveProperties: 0x02,
  AdditionalStreamsInfo: 0x03,
  MainStreamsInfo: 0x04,
  PackInfo: 0x06,
  UnpackInfo: 0x07,
  SubStreamsInfo: 0x08,
  Size: 0x09,
  Crc: 0x0a,
  Folder: 0x0b,
  CodersUnpackSize: 0x0c,
  NumUnpackStream: 0x0d,
  FilesInfo: 0x05,
  EncodedHeader: 0x17,
} as const;

export interface Coder {
  /** method id in hex: '030101' LZMA, '21' LZMA2, '06f10701' AES-256 … */
  id: string;
  properties: Buffer;
  outStreams: number;
}

export interface Folder {
  coders: Coder[];
  /** one size per coder output stream; the folder's result is the unbound one */
  unpackSizes: number[];
  unpackCrc?: number;
  /** how many packed streams the folder reads (consecutive in the pack list) */
  packedStreams: number;
}

export interface StreamsInfo {
  packPos: number;
  packSizes: number[];
  folders: Folder[];
}

/** 7-Zip's own limit on coders per folder (and streams per coder). */
const MAX_CODERS = 64;

export function readStreamsInfo(cursor: Cursor): StreamsInfo {
  const info: StreamsInfo = { packPos: 0, packSizes: [], folders: [] };
  for (let id = cursor.byte(); id !== Id.End; id = cursor.byte()) {
    if (id === Id.PackInfo) readPackInfo(cursor, info);
    else if (id === Id.UnpackInfo) info.folders = readUnpackInfo(cursor);
    else if (id === Id.SubStreamsInfo) readSubStreamsInfo(cursor, info.folders);
    else malformed(`unexpected property 0x${id.toString(16)} in streams info`);
  }
  return info;
}

function readPackInfo(cursor: Cursor, info: StreamsInfo): void {
  info.packPos = cursor.number();
  const count = cursor.count();
  for (let id = cursor.byte(); id !== Id.End; id = cursor.byte()) {
    if (id === Id.Size) info.packSizes = Array.from({ length: count }, () => cursor.number());
    else if (id === Id.Crc) readDigests(cursor, count);
    else malformed(`unexpected property 0x${id.toString(16)} in pack info`);
  }
  if (info.packSizes.length !== count) malformed('pack sizes missing');
}

function readUnpackInfo(cursor: Cursor): Folder[] {
  cursor.expect(Id.Folder, 'folder list');
  const folders: Folder[] = Array.from({ length: cursor.count(2) }, () => ({ coders: [], unpackSizes: [], packedStreams: 1 }));
  if (cursor.byte() !== 0) malformed('external folder list');
  for (const folder of folders) Object.assign(folder, readFolder(cursor));
  cursor.expect(Id.CodersUnpackSize, 'unpack sizes');
  for (const folder of folders) folder.unpackSizes = folder.coders.flatMap((coder) => Array.from({ length: coder.outStreams }, () => cursor.number()));
  for (let id = cursor.byte(); id !== Id.End; id = cursor.byte()) {
    if (id !== Id.Crc) malformed(`unexpected property 0x${id.toString(16)} in unpack info`);
    readDigests(cursor, folders.length).forEach((crc, i) => (folders[i]!.unpackCrc = crc));
  }
  return folders;
}

function readFolder(cursor: Cursor): { coders: Coder[]; packedStreams: number } {
  const numCoders = cursor.count(2);
  if (numCoders === 0 || numCoders > MAX_CODERS) malformed(`${numCoders} coders in a folder`);
  let inTotal = 0;
  let outTotal = 0;
  const coders: Coder[] = [];
  for (let i = 0; i < numCoders; i++) {
    const flags = cursor.byte();
    if (flags & 0xc0) malformed('reserved coder flags');
    const id = cursor.take(flags & 0x0f).toString('hex');
    const complex = (flags & 0x10) !== 0;
    const inStreams = complex ? cursor.number() : 1;
    const outStreams = complex ? cursor.number() : 1;
    if (inStreams > MAX_CODERS || outStreams > MAX_CODERS) malformed('too many coder streams');
    const properties = flags & 0x20 ? cursor.take(cursor.count()) : Buffer.alloc(0);
    coders.push({ id, properties, outStreams });
    inTotal += inStreams;
    outTotal += outStreams;
  }
  const bindPairs = outTotal - 1;
  if (bindPairs < 0 || bindPairs > inTotal) malformed('inconsistent coder streams');
  for (let i = 0; i < bindPairs; i++) {
    cursor.number();
    cursor.number();
  }
  const packed = inTotal - bindPairs;
  if (packed > 1) for (let i = 0; i < packed; i++) cursor.number();
  return { coders, packedStreams: packed };
}

/**
 * Per-file sizes and CRCs inside the folders: numbers only, read so that the files' properties
 * after them can be checked too.
 */
function readSubStreamsInfo(cursor: Cursor, folders: Folder[]): void {
  let perFolder = folders.map(() => 1);
  let id = cursor.byte();
  if (id === Id.NumUnpackStream) {
    perFolder = folders.map(() => cursor.count());
    id = cursor.byte();
  }
  if (id === Id.Size) {
    for (const streams of perFolder) for (let i = 1; i < streams; i++) cursor.number();
    id = cursor.byte();
  }
  const unknownCrcs = perFolder.reduce((sum, streams, i) => sum + (streams === 1 && folders[i]!.unpackCrc !== undefined ? 0 : streams), 0);
  if (id === Id.Crc) {
    readDigests(cursor, unknownCrcs);
    id = cursor.byte();
  }
  if (id !== Id.End) malformed(`unexpected property 0x${id.toString(16)} in substreams info`);
}

/** A digest list: "all defined" byte or a bit vector, then a CRC32 per defined item. */
function readDigests(cursor: Cursor, count: number): Array<number | undefined> {
  const allDefined = cursor.byte() !== 0;
  const bits = allDefined ? undefined : cursor.take(Math.ceil(count / 8));
  const defined = (i: number): boolean => bits === undefined || ((bits[i >> 3]! >> (7 - (i & 7))) & 1) === 1;
  return Array.from({ length: count }, (_, i) => (defined(i) ? cursor.take(4).readUInt32LE(0) : undefined));
}
