import { malformed } from '../common/malformed.js';
import { AES_EXTRA_ID, ZIP64_EXTRA_ID, applyZip64, findExtra, hasZip64Sentinel, parseAesExtra, type AesExtra } from './extra.js';

const CENTRAL_SIG = 0x02014b50;
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_STRONG = 0x0040;
const FLAG_UTF8 = 0x0800;
export const METHOD_AES = 99;

/**
 * One central directory header, with ZIP64 sizes resolved and the AES extra parsed. The name stays
 * in the directory's bytes (`cd`) until it is shown: a directory may hold hundreds of thousands of
 * entries, and a Buffer and a string each would multiply its memory.
 */
export interface CentralEntry {
  index: number;
  cd: Buffer;
  nameOffset: number;
  nameLength: number;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  aes: AesExtra | undefined;
  /** a name ending in "/" with no content: tools leave these unencrypted even in AES archives */
  isDirectory: boolean;
}

/** Parses exactly `count` headers that must fill `cd` exactly; every length is checked before use. */
export function parseCentralDirectory(cd: Buffer, count: number): CentralEntry[] {
  const entries: CentralEntry[] = [];
  let pos = 0;
  for (let index = 0; index < count; index++) {
    const entry = parseHeader(cd, pos, index);
    entries.push(entry);
    pos = entry.nameOffset + entry.nameLength + cd.readUInt16LE(pos + 30) + cd.readUInt16LE(pos + 32);
  }
  if (pos !== cd.length) malformed(`the central directory has ${cd.length - pos} bytes after its ${count} entries`);
  return entries;
}

function parseHeader(cd: Buffer, pos: number, index: number): CentralEntry {
  if (pos + 46 > cd.length || cd.readUInt32LE(pos) !== CENTRAL_SIG) malformed(`central directory entry ${index} is missing or cut`);
  const nameOffset = pos + 46;
  const nameLength = cd.readUInt16LE(pos + 28);
  const extraEnd = nameOffset + nameLength + cd.readUInt16LE(pos + 30);
  if (extraEnd + cd.readUInt16LE(pos + 32) > cd.length) malformed(`central directory entry ${index} runs past the directory`);
  const flags = cd.readUInt16LE(pos + 8);
  let sizes = { compressedSize: cd.readUInt32LE(pos + 20), uncompressedSize: cd.readUInt32LE(pos + 24), localOffset: cd.readUInt32LE(pos + 42) };
  if (hasZip64Sentinel(sizes)) sizes = applyZip64(sizes, findExtra(cd, nameOffset + nameLength, extraEnd, ZIP64_EXTRA_ID));
  const aesData = findExtra(cd, nameOffset + nameLength, extraEnd, AES_EXTRA_ID);
  const isDirectory =
    nameLength > 0 &&
    cd[nameOffset + nameLength - 1] === 0x2f &&
    sizes.uncompressedSize === 0 &&
    ((flags & FLAG_ENCRYPTED) !== 0 || sizes.compressedSize === 0);
  return { index, cd, nameOffset, nameLength, flags, method: cd.readUInt16LE(pos + 10), ...sizes, aes: aesData && parseAesExtra(aesData), isDirectory };
}

/** The entry's name for people (UTF-8 when flag bit 11 says so, else read as Latin-1), at most 200 characters. */
export function entryName(entry: CentralEntry): string {
  return entry.cd.toString(entry.flags & FLAG_UTF8 ? 'utf8' : 'latin1', entry.nameOffset, entry.nameOffset + entry.nameLength).slice(0, 200);
}

/** Whether `buf[start, end)` (a local header's name) is the entry's name, byte for byte. */
export function sameName(entry: CentralEntry, buf: Buffer, start: number, end: number): boolean {
  return end - start === entry.nameLength && entry.cd.compare(buf, start, end, entry.nameOffset, entry.nameOffset + entry.nameLength) === 0;
}
