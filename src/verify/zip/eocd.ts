import { refuse } from '../common/byte-map.js';
import { malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';

/** The end record (22 bytes) plus the longest comment it may carry (65,535 bytes). */
export const EOCD_SEARCH = 22 + 0xffff;
const EOCD_SIG = 0x06054b50;
const EOCD_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
/** smallest central directory header: a hostile entry count is capped by the bytes that could hold it */
export const CENTRAL_HEADER_MIN = 46;

/** Where the central directory is and what the end record says about it. */
export interface ZipDirectory {
  entries: number;
  cdOffset: number;
  cdSize: number;
  commentLength: number;
  zip64: boolean;
  /** where the end record starts (its comment runs from +22 to the end of the file) */
  eocdOffset: number;
  /** ZIP64: where its end record starts and how long it says it is */
  zip64Record?: { offset: number; size: number };
}

export async function readDirectoryEnd(source: ByteSource): Promise<ZipDirectory> {
  const tailStart = Math.max(0, source.size - EOCD_SEARCH);
  const tail = await source.read(tailStart, source.size - tailStart);
  const at = findEndRecord(tail);
  const eocd = tail.subarray(at, at + 22);
  const eocdOffset = tailStart + at;
  const locator = eocdOffset >= 20 ? await source.read(eocdOffset - 20, 20) : Buffer.alloc(0);
  const dir =
    locator.length === 20 && locator.readUInt32LE(0) === LOCATOR_SIG ? await readZip64End(source, locator, eocdOffset - 20) : readClassicEnd(eocd, eocdOffset);
  return { ...dir, commentLength: eocd.readUInt16LE(20), eocdOffset };
}

/**
 * The end record must end exactly at the end of the file with its comment. Searching from the end
 * would take a record planted in the comment for the real one, so every candidate is collected:
 * two that both fit means the archive has two readings, and it is refused.
 */
export function findEndRecord(tail: Buffer): number {
  const found: number[] = [];
  for (let i = tail.length - 22; i >= 0 && found.length < 2; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) === tail.length) found.push(i);
  }
  if (found.length === 0) {
    // an end record whose comment stops short of the end: something was appended after the archive
    const last = tail.lastIndexOf(EOCD_MAGIC);
    if (last >= 0 && last + 22 <= tail.length && last + 22 + tail.readUInt16LE(last + 20) < tail.length) {
      const end = last + 22 + tail.readUInt16LE(last + 20);
      refuse(
        'unaccounted-bytes',
        `${tail.length - end} bytes after the end record and its comment belong to no structure of the format (appended to the archive)`,
      );
    }
    malformed('no end-of-central-directory record at the end of the file (truncated?)');
  }
  if (found.length > 1) malformed('a second end-of-central-directory record is hidden in the archive comment');
  return found[0]!;
}

function readClassicEnd(eocd: Buffer, eocdOffset: number): Omit<ZipDirectory, 'commentLength' | 'eocdOffset'> {
  const cdSize = eocd.readUInt32LE(12);
  const cdOffset = eocd.readUInt32LE(16);
  if (cdSize === 0xffffffff || cdOffset === 0xffffffff) malformed('the end record says ZIP64 but there is no ZIP64 locator');
  requireSingleDisk(eocd.readUInt16LE(4), eocd.readUInt16LE(6), eocd.readUInt16LE(8), eocd.readUInt16LE(10));
  return checkPlacement({ entries: eocd.readUInt16LE(10), cdOffset, cdSize, zip64: false }, eocdOffset);
}

async function readZip64End(source: ByteSource, locator: Buffer, locatorOffset: number): Promise<Omit<ZipDirectory, 'commentLength' | 'eocdOffset'>> {
  const recordOffset = safeNumber(locator.readBigUInt64LE(8), 'ZIP64 end record offset');
  if (recordOffset + 56 > locatorOffset) malformed('the ZIP64 locator points outside the archive');
  const record = await source.read(recordOffset, 56);
  if (record.readUInt32LE(0) !== ZIP64_EOCD_SIG) malformed('no ZIP64 end record where the locator points');
  requireSingleDisk(
    record.readUInt32LE(16),
    record.readUInt32LE(20),
    safeNumber(record.readBigUInt64LE(24), 'entries'),
    safeNumber(record.readBigUInt64LE(32), 'entries'),
  );
  const dir = {
    entries: safeNumber(record.readBigUInt64LE(32), 'entry count'),
    cdSize: safeNumber(record.readBigUInt64LE(40), 'central directory size'),
    cdOffset: safeNumber(record.readBigUInt64LE(48), 'central directory offset'),
    zip64: true,
    // the record's own size field counts the bytes after its first 12
    zip64Record: { offset: recordOffset, size: 12 + safeNumber(record.readBigUInt64LE(4), 'ZIP64 end record size') },
  };
  return checkPlacement(dir, recordOffset);
}

/** The central directory must sit right before the end records, and have room for its entries. */
function checkPlacement<T extends { entries: number; cdOffset: number; cdSize: number }>(dir: T, end: number): T {
  if (dir.cdOffset + dir.cdSize !== end)
    malformed(`the central directory (offset ${dir.cdOffset}, ${dir.cdSize} bytes) does not end where the end record starts (${end})`);
  if (dir.entries > Math.floor(dir.cdSize / CENTRAL_HEADER_MIN))
    malformed(`the archive claims ${dir.entries} entries but its central directory has room for ${Math.floor(dir.cdSize / CENTRAL_HEADER_MIN)}`);
  return dir;
}

function requireSingleDisk(disk: number, cdDisk: number, entriesHere: number, entries: number): void {
  if (disk !== 0 || cdDisk !== 0 || entriesHere !== entries) malformed('a split (multi-volume) archive: send it as one file');
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed(`absurd ${what}: ${value}`);
  return Number(value);
}
