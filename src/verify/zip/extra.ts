import { malformed } from '../common/malformed.js';

export const AES_EXTRA_ID = 0x9901;
export const ZIP64_EXTRA_ID = 0x0001;
const SENTINEL32 = 0xffffffff;

/** WinZip AES extra field (0x9901): AE-1 keeps the real CRC, AE-2 stores 0; strength 1/2/3 = AES-128/192/256. */
export interface AesExtra {
  vendorVersion: 1 | 2;
  strength: 1 | 2 | 3;
  /** the compression method actually used inside the encryption */
  method: number;
}

/**
 * The data of record `id` in an extra field, or undefined. The whole field is checked on the way:
 * a record running past the field, or `id` appearing twice, is refused. Allocates nothing unless
 * the record is found, so directories of many entries cost little memory.
 */
export function findExtra(buf: Buffer, start: number, end: number, id: number): Buffer | undefined {
  let found: Buffer | undefined;
  for (let pos = start; pos + 4 <= end;) {
    const recordId = buf.readUInt16LE(pos);
    const next = pos + 4 + buf.readUInt16LE(pos + 2);
    if (next > end) malformed(`extra field 0x${hex(recordId)} runs past the end of its header`);
    if (recordId === id) {
      if (found) malformed(`extra field 0x${hex(id)} appears twice in one header`);
      found = buf.subarray(pos + 4, next);
    }
    pos = next;
  }
  return found;
}

export function parseAesExtra(data: Buffer): AesExtra {
  if (data.length !== 7 || data.toString('latin1', 2, 4) !== 'AE') malformed('a WinZip AES extra field (0x9901) that is not 7 bytes of "AE" data');
  const vendorVersion = data.readUInt16LE(0);
  const strength = data[4]!;
  if (vendorVersion !== 1 && vendorVersion !== 2) malformed(`WinZip AES vendor version ${vendorVersion} (only AE-1 and AE-2 exist)`);
  if (strength !== 1 && strength !== 2 && strength !== 3) malformed(`WinZip AES strength ${strength} (only 1, 2, 3 exist)`);
  return { vendorVersion, strength, method: data.readUInt16LE(5) };
}

export function aesBits(aes: AesExtra): number {
  return 64 + 64 * aes.strength;
}

export interface Sizes {
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

/** Central header values of 0xFFFFFFFF are in the ZIP64 extra field, in this order, 8 bytes each. */
export function applyZip64(sizes: Sizes, zip64: Buffer | undefined): Sizes {
  const wanted = (['uncompressedSize', 'compressedSize', 'localOffset'] as const).filter((key) => sizes[key] === SENTINEL32);
  if (wanted.length === 0) return sizes;
  if (!zip64 || zip64.length < wanted.length * 8) malformed('a central header says ZIP64 but has no ZIP64 extra field for it');
  const out = { ...sizes };
  wanted.forEach((key, i) => {
    const value = zip64.readBigUInt64LE(i * 8);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed(`absurd ZIP64 ${key}: ${value}`);
    out[key] = Number(value);
  });
  return out;
}

export function hasZip64Sentinel(sizes: Sizes): boolean {
  return sizes.compressedSize === SENTINEL32 || sizes.uncompressedSize === SENTINEL32 || sizes.localOffset === SENTINEL32;
}

function hex(id: number): string {
  return id.toString(16).padStart(4, '0');
}
