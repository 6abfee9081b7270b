import type { ByteSource } from './source.js';
import { FLAG_ENCRYPTED, FLAG_STRONG, type CentralEntry } from './zip-central.js';
import { malformed } from './zip-eocd.js';
import { AES_EXTRA_ID, extraFields, parseAesExtra } from './zip-extra.js';

const LOCAL_SIG = 0x04034b50;
const WINDOW = 64 * 1024;

const SPLIT_MARKER = 0x08074b50;
const FLAG_DESCRIPTOR = 0x0008;
/** a data descriptor after the data: CRC and two sizes of 4 or 8 bytes, with or without its signature */
const DESCRIPTOR_SIZES = [12, 16, 20, 24];

/**
 * Every local header must agree with its central header (a reader that trusts the local one must
 * see the same encryption), and the entries must tile the file up to the directory: overlapping
 * entries are how zip bombs multiply their output, and bytes no entry accounts for could be
 * anything, plain text included.
 */
export async function checkLocalHeaders(source: ByteSource, entries: CentralEntry[], cdOffset: number): Promise<void> {
  const reader = new WindowReader(source);
  const ordered = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  const start = (await reader.bytes(0, 4)).readUInt32LE(0) === SPLIT_MARKER ? 4 : 0;
  let previous = { end: start, descriptor: false, index: -1 };
  for (const entry of ordered) {
    requireAdjacent(previous, entry.localOffset, `entry ${entry.index}`);
    previous = { end: await checkOne(reader, entry, cdOffset), descriptor: (entry.flags & FLAG_DESCRIPTOR) !== 0, index: entry.index };
  }
  requireAdjacent(previous, cdOffset, 'the central directory');
}

function requireAdjacent(previous: { end: number; descriptor: boolean; index: number }, next: number, what: string): void {
  const gap = next - previous.end;
  if (gap < 0) malformed(`${what} overlaps ${previous.index < 0 ? 'the start of the file' : `entry ${previous.index}`}`);
  if (gap !== 0 && !(previous.descriptor && DESCRIPTOR_SIZES.includes(gap))) malformed(`${gap} bytes before ${what} belong to no entry`);
}

/** Returns where the entry's data ends. */
async function checkOne(reader: WindowReader, entry: CentralEntry, cdOffset: number): Promise<number> {
  const header = await reader.bytes(entry.localOffset, 30);
  if (header.length < 30 || entry.localOffset + 30 > cdOffset || header.readUInt32LE(0) !== LOCAL_SIG) malformed(`no local header for entry ${entry.index} where the directory points`);
  const flags = header.readUInt16LE(6);
  const nameLength = header.readUInt16LE(26);
  const extraLength = header.readUInt16LE(28);
  const dataStart = entry.localOffset + 30 + nameLength + extraLength;
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > cdOffset) malformed(`the data of entry ${entry.index} runs into the central directory`);
  const rest = await reader.bytes(entry.localOffset + 30, nameLength + extraLength);
  const mask = FLAG_ENCRYPTED | FLAG_STRONG;
  if ((flags & mask) !== (entry.flags & mask)) malformed(`entry ${entry.index}: the local header's encryption flags differ from the central directory's`);
  if (header.readUInt16LE(8) !== entry.method) malformed(`entry ${entry.index}: the local header's method differs from the central directory's`);
  if (!rest.subarray(0, nameLength).equals(entry.rawName)) malformed(`entry ${entry.index}: the local header names another file`);
  checkAesAgrees(entry, extraFields(rest.subarray(nameLength)).get(AES_EXTRA_ID));
  return dataEnd;
}

function checkAesAgrees(entry: CentralEntry, localData: Buffer | undefined): void {
  if (!entry.aes && !localData) return;
  if (!entry.aes || !localData) malformed(`entry ${entry.index}: the WinZip AES field is in only one of its two headers`);
  const local = parseAesExtra(localData);
  const central = entry.aes;
  if (local.vendorVersion !== central.vendorVersion || local.strength !== central.strength || local.method !== central.method) {
    malformed(`entry ${entry.index}: the local and central WinZip AES fields differ`);
  }
}

/** Serves the ascending small reads of local headers from 64 KiB windows, so many tiny entries cost few reads. */
class WindowReader {
  private start = 0;
  private window: Buffer = Buffer.alloc(0);

  constructor(private readonly source: ByteSource) {}

  async bytes(offset: number, length: number): Promise<Buffer> {
    if (offset < this.start || offset + length > this.start + this.window.length) {
      this.start = offset;
      this.window = await this.source.read(offset, Math.max(length, WINDOW));
    }
    return this.window.subarray(offset - this.start, offset - this.start + length);
  }
}
