import { malformed } from './zip-eocd.js';

export const AES_EXTRA_ID = 0x9901;
const ZIP64_EXTRA_ID = 0x0001;
const SENTINEL32 = 0xffffffff;

/** WinZip AES extra field (0x9901): AE-1 keeps the real CRC, AE-2 stores 0; strength 1/2/3 = AES-128/192/256. */
export interface AesExtra {
  vendorVersion: 1 | 2;
  strength: 1 | 2 | 3;
  /** the compression method actually used inside the encryption */
  method: number;
}

/** Extra field records by id. A record running past the field, or a repeated id, is refused. */
export function extraFields(field: Buffer): Map<number, Buffer> {
  const records = new Map<number, Buffer>();
  let pos = 0;
  while (pos + 4 <= field.length) {
    const id = field.readUInt16LE(pos);
    const length = field.readUInt16LE(pos + 2);
    if (pos + 4 + length > field.length) malformed(`extra field 0x${hex(id)} runs past the end of its header`);
    if (records.has(id)) malformed(`extra field 0x${hex(id)} appears twice in one header`);
    records.set(id, field.subarray(pos + 4, pos + 4 + length));
    pos += 4 + length;
  }
  return records;
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
export function applyZip64(sizes: Sizes, extra: Map<number, Buffer>): Sizes {
  const wanted = (['uncompressedSize', 'compressedSize', 'localOffset'] as const).filter((key) => sizes[key] === SENTINEL32);
  if (wanted.length === 0) return sizes;
  const data = extra.get(ZIP64_EXTRA_ID);
  if (!data || data.length < wanted.length * 8) malformed('a central header says ZIP64 but has no ZIP64 extra field for it');
  const out = { ...sizes };
  wanted.forEach((key, i) => {
    const value = data.readBigUInt64LE(i * 8);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed(`absurd ZIP64 ${key}: ${value}`);
    out[key] = Number(value);
  });
  return out;
}

function hex(id: number): string {
  return id.toString(16).padStart(4, '0');
}
