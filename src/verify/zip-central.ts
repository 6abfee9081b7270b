import { malformed } from './zip-eocd.js';
import { AES_EXTRA_ID, applyZip64, extraFields, parseAesExtra, type AesExtra } from './zip-extra.js';

const CENTRAL_SIG = 0x02014b50;
export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_STRONG = 0x0040;
const FLAG_UTF8 = 0x0800;
export const METHOD_AES = 99;

/** One central directory header, with ZIP64 sizes resolved and the AES extra parsed. */
export interface CentralEntry {
  index: number;
  name: string;
  /** raw name bytes, compared with the local header's */
  rawName: Buffer;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  aes?: AesExtra;
  /** a name ending in "/" with no content: tools leave these unencrypted even in AES archives */
  isDirectory: boolean;
}

/** Parses exactly `count` headers that must fill `cd` exactly; every length is checked before use. */
export function parseCentralDirectory(cd: Buffer, count: number): CentralEntry[] {
  const entries: CentralEntry[] = [];
  let pos = 0;
  for (let index = 0; index < count; index++) {
    const { entry, next } = parseHeader(cd, pos, index);
    entries.push(entry);
    pos = next;
  }
  if (pos !== cd.length) malformed(`the central directory has ${cd.length - pos} bytes after its ${count} entries`);
  return entries;
}

function parseHeader(cd: Buffer, pos: number, index: number): { entry: CentralEntry; next: number } {
  if (pos + 46 > cd.length || cd.readUInt32LE(pos) !== CENTRAL_SIG) malformed(`central directory entry ${index} is missing or cut`);
  const nameLength = cd.readUInt16LE(pos + 28);
  const extraLength = cd.readUInt16LE(pos + 30);
  const next = pos + 46 + nameLength + extraLength + cd.readUInt16LE(pos + 32);
  if (next > cd.length) malformed(`central directory entry ${index} runs past the directory`);
  const flags = cd.readUInt16LE(pos + 8);
  const rawName = cd.subarray(pos + 46, pos + 46 + nameLength);
  const extra = extraFields(cd.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength));
  const sizes = applyZip64({ compressedSize: cd.readUInt32LE(pos + 20), uncompressedSize: cd.readUInt32LE(pos + 24), localOffset: cd.readUInt32LE(pos + 42) }, extra);
  const aesData = extra.get(AES_EXTRA_ID);
  const name = rawName.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');
  const entry: CentralEntry = { index, name, rawName, flags, method: cd.readUInt16LE(pos + 10), ...sizes, isDirectory: false };
  if (aesData) entry.aes = parseAesExtra(aesData);
  entry.isDirectory = name.endsWith('/') && sizes.uncompressedSize === 0 && ((flags & FLAG_ENCRYPTED) !== 0 || sizes.compressedSize === 0);
  return { entry, next };
}
