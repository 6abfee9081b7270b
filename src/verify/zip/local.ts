import type { ByteMap } from '../common/byte-map.js';
import type { ByteSource } from '../common/source.js';
import { checkExtraFields } from './extra-policy.js';
import { FLAG_ENCRYPTED, FLAG_STRONG, entryName, sameName, type CentralEntry } from './central.js';
import { refuse } from '../common/byte-map.js';
import { malformed } from '../common/malformed.js';
import { AES_EXTRA_ID, findExtra, parseAesExtra } from './extra.js';

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
 * anything, plain text included. Each header, data and descriptor goes on the byte map; with `map`
 * given (an archive about to be accepted) the local extra fields must also pass the extra-field rule.
 */
export async function checkLocalHeaders(source: ByteSource, entries: CentralEntry[], cdOffset: number, map?: ByteMap): Promise<void> {
  const reader = new WindowReader(source);
  const ordered = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  const first = await reader.view(0, 4);
  let end = first.length === 4 && first.buf.readUInt32LE(first.at) === SPLIT_MARKER ? 4 : 0;
  map?.add(0, end, 'metadata', 'the split-archive marker');
  let before: CentralEntry | undefined;
  for (const entry of ordered) {
    requireAdjacent(end, before, entry.localOffset, `entry ${entry.index}`, map);
    end = await checkOne(reader, entry, cdOffset, map);
    before = entry;
  }
  requireAdjacent(end, before, cdOffset, 'the central directory', map);
}

function requireAdjacent(end: number, before: CentralEntry | undefined, next: number, what: string, map: ByteMap | undefined): void {
  const gap = next - end;
  if (gap < 0) malformed(`${what} overlaps ${before ? `entry ${before.index}` : 'the start of the file'}`);
  const descriptor = before !== undefined && (before.flags & FLAG_DESCRIPTOR) !== 0;
  if (gap !== 0 && !(descriptor && DESCRIPTOR_SIZES.includes(gap)))
    refuse('unaccounted-bytes', `${gap} bytes at offsets ${end}–${next - 1}, before ${what}, belong to no entry`);
  if (before) map?.add(end, next, 'metadata', `the data descriptor of entry ${before.index}`);
}

/** Returns where the entry's data ends. */
async function checkOne(reader: WindowReader, entry: CentralEntry, cdOffset: number, map: ByteMap | undefined): Promise<number> {
  const header = await reader.view(entry.localOffset, 30);
  const { buf, at } = header;
  if (header.length < 30 || entry.localOffset + 30 > cdOffset || buf.readUInt32LE(at) !== LOCAL_SIG)
    malformed(`no local header for entry ${entry.index} where the directory points`);
  const flags = buf.readUInt16LE(at + 6);
  const method = buf.readUInt16LE(at + 8);
  const nameLength = buf.readUInt16LE(at + 26);
  const extraLength = buf.readUInt16LE(at + 28);
  const dataEnd = entry.localOffset + 30 + nameLength + extraLength + entry.compressedSize;
  if (dataEnd > cdOffset) malformed(`the data of entry ${entry.index} runs into the central directory`);
  const mask = FLAG_ENCRYPTED | FLAG_STRONG;
  if ((flags & mask) !== (entry.flags & mask)) malformed(`entry ${entry.index}: the local header's encryption flags differ from the central directory's`);
  if (method !== entry.method) malformed(`entry ${entry.index}: the local header's method differs from the central directory's`);
  const rest = await reader.view(entry.localOffset + 30, nameLength + extraLength);
  if (!sameName(entry, rest.buf, rest.at, rest.at + nameLength)) malformed(`entry ${entry.index}: the local header names another file`);
  checkAesAgrees(entry, findExtra(rest.buf, rest.at + nameLength, rest.at + rest.length, AES_EXTRA_ID));
  if (map) {
    const dataStart = entry.localOffset + 30 + nameLength + extraLength;
    checkExtraFields(rest.buf.subarray(rest.at + nameLength, rest.at + rest.length), `the local header of entry ${entry.index}`);
    map.add(entry.localOffset, dataStart, 'metadata', `the local header of entry ${entry.index}`);
    const encrypted = (entry.flags & FLAG_ENCRYPTED) !== 0;
    map.add(dataStart, dataEnd, encrypted ? 'encrypted' : 'metadata', `the data of entry ${entry.index} (${entryName(entry)})`);
  }
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

/** `length` bytes (fewer at the end of the file) at `buf[at]`, without copying. */
interface View {
  buf: Buffer;
  at: number;
  length: number;
}

/**
 * Serves the ascending small reads of local headers from 64 KiB windows without copying, so many
 * tiny entries cost few reads and little garbage.
 */
class WindowReader {
  private start = 0;
  private window: Buffer = Buffer.alloc(0);

  constructor(private readonly source: ByteSource) {}

  async view(offset: number, length: number): Promise<View> {
    if (offset < this.start || offset + length > this.start + this.window.length) {
      this.start = offset;
      this.window = await this.source.read(offset, Math.max(length, WINDOW));
    }
    const at = offset - this.start;
    return { buf: this.window, at, length: Math.max(0, Math.min(length, this.window.length - at)) };
  }
}
