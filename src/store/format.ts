import { CasedropError, ErrorCode } from '../errors.js';

/**
 * One object = one blob:
 *
 *   fixed  16 B  "CDRO", version 1, log2(chunk size), 0, wrapLen u32, metaLen u32   (big-endian)
 *   salt    8 B  random per object: nonce prefix, bound into every AAD
 *   wrap        keyIdLen u8, keyId, keyCheck 8, nonce 12, AES-GCM(master, data key) 32 + tag 16
 *   meta        AES-GCM(data key, JSON {createdAt, meta}) + tag 16
 *   chunks      AES-GCM(data key, ≤ 2^chunkLog2 bytes of content: 256 KiB when written, 1 KiB–16 MiB read) + tag 16, as many as needed (at least one)
 *   trailer 56  AES-GCM(data key, size u64 + sha256 32) + tag 16
 *
 * Only the wrap section depends on the master key, so rotation rewrites it and copies the rest.
 *
 * Version 2 (every object of a case) differs only in the wrap section: the data key is wrapped under
 * the object's own key from the key store (src/keys/shred-store.ts), key id SHRED_KEY_ID, instead of
 * under a master key; the key store entry is what the master key wraps. Destroying that entry
 * shreds every copy of the object. Chunks, meta and trailer are sealed alike in both versions
 * (CONTENT_VERSION in their AAD), so a version 1 object migrates by rewriting its wrap section.
 */
export const MAGIC = Buffer.from('CDRO', 'latin1');
export const FORMAT_VERSION = 1;
export const SHREDDABLE_VERSION = 2;
/** Bound into every chunk's AAD; the same for versions 1 and 2 (they differ only in key wrapping). */
export const CONTENT_VERSION = 1;
/** The wrap section's key id in version 2: "the object's own key in the key store". */
export const SHRED_KEY_ID = '@object-key';
/**
 * 256 KiB chunks for what is written now (64 KiB until 2026-12; readers take any size the header
 * names): AES-GCM's per-chunk setup, tag and JS call cost ~0.1 CPU s/GiB less than with 64 KiB,
 * ~11 % of a large upload's CPU. A range read then decrypts at most 256 KiB it does not return.
 */
export const CHUNK_LOG2 = 18;
/** the chunk sizes a reader accepts: 1 KiB to 16 MiB */
export const MIN_CHUNK_LOG2 = 10;
export const MAX_CHUNK_LOG2 = 24;
export const CHUNK_SIZE = 1 << CHUNK_LOG2;
export const TAG_BYTES = 16;
export const FIXED_BYTES = 16;
export const SALT_BYTES = 8;
export const WRAP_NONCE_BYTES = 12;
export const KEY_CHECK_BYTES = 8;
export const DATA_KEY_BYTES = 32;
export const TRAILER_PLAIN_BYTES = 8 + 32;
export const TRAILER_BYTES = TRAILER_PLAIN_BYTES + TAG_BYTES;
const MAX_META_BYTES = 16 * 1024 * 1024;
/** Chunk indexes 2^32-2 and 2^32-1 name the trailer and the meta section in nonces and AADs. */
export const MAX_CHUNKS = 0xfffffffe;

export interface WrappedKey {
  keyId: string;
  check: Buffer;
  nonce: Buffer;
  /** wrapped data key followed by its tag */
  sealed: Buffer;
}

export interface ObjectHeader {
  version: number;
  chunkLog2: number;
  salt: Buffer;
  wrap: WrappedKey;
  /** encrypted meta section, tag included */
  meta: Buffer;
}

export interface FixedPart {
  version: number;
  chunkLog2: number;
  wrapLen: number;
  metaLen: number;
}

export function encodeHeader(h: ObjectHeader): Buffer {
  const wrap = encodeWrap(h.wrap);
  const fixed = Buffer.alloc(FIXED_BYTES);
  MAGIC.copy(fixed, 0);
  fixed.writeUInt8(h.version, 4);
  fixed.writeUInt8(h.chunkLog2, 5);
  fixed.writeUInt32BE(wrap.length, 8);
  fixed.writeUInt32BE(h.meta.length, 12);
  return Buffer.concat([fixed, h.salt, wrap, h.meta]);
}

function encodeWrap(w: WrappedKey): Buffer {
  const id = Buffer.from(w.keyId, 'latin1');
  return Buffer.concat([Buffer.from([id.length]), id, w.check, w.nonce, w.sealed]);
}

/** Bytes of fixed part + salt: enough to learn how long the rest of the header is. */
export const PREAMBLE_BYTES = FIXED_BYTES + SALT_BYTES;

export function decodeFixed(buf: Buffer, id: string): FixedPart {
  if (buf.length < FIXED_BYTES) throw truncated(id, 'shorter than its header');
  if (!buf.subarray(0, 4).equals(MAGIC)) throw corrupt(id, 'not a casedrop object (bad magic)');
  const version = buf.readUInt8(4);
  if (version !== FORMAT_VERSION && version !== SHREDDABLE_VERSION) throw corrupt(id, `unknown format version ${version}`);
  const chunkLog2 = buf.readUInt8(5);
  const wrapLen = buf.readUInt32BE(8);
  const metaLen = buf.readUInt32BE(12);
  const wrapOk = wrapLen >= 1 + 1 + KEY_CHECK_BYTES + WRAP_NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES && wrapLen <= 255 + 77;
  if (chunkLog2 < MIN_CHUNK_LOG2 || chunkLog2 > MAX_CHUNK_LOG2 || !wrapOk || metaLen < TAG_BYTES || metaLen > MAX_META_BYTES) {
    throw corrupt(id, 'header fields out of range');
  }
  return { version, chunkLog2, wrapLen, metaLen };
}

/** `buf` holds the whole header (preamble, wrap and meta sections). */
export function decodeHeader(buf: Buffer, fixed: FixedPart, id: string): ObjectHeader {
  if (buf.length < headerLength(fixed)) throw truncated(id, 'shorter than its header');
  const salt = buf.subarray(FIXED_BYTES, PREAMBLE_BYTES);
  const wrapBuf = buf.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + fixed.wrapLen);
  const idLen = wrapBuf.readUInt8(0);
  if (wrapBuf.length !== 1 + idLen + KEY_CHECK_BYTES + WRAP_NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES) {
    throw corrupt(id, 'wrapped key section has the wrong length');
  }
  let at = 1;
  const take = (n: number) => wrapBuf.subarray(at, (at += n));
  const wrap: WrappedKey = {
    keyId: take(idLen).toString('latin1'),
    check: take(KEY_CHECK_BYTES),
    nonce: take(WRAP_NONCE_BYTES),
    sealed: take(DATA_KEY_BYTES + TAG_BYTES),
  };
  const meta = buf.subarray(PREAMBLE_BYTES + fixed.wrapLen, headerLength(fixed));
  if ((fixed.version === SHREDDABLE_VERSION) !== (wrap.keyId === SHRED_KEY_ID)) throw corrupt(id, 'wrapped key section does not match the format version');
  return { version: fixed.version, chunkLog2: fixed.chunkLog2, salt, wrap, meta };
}

export function headerLength(f: FixedPart): number {
  return PREAMBLE_BYTES + f.wrapLen + f.metaLen;
}

export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Bytes of chunk record `index` (its ciphertext and tag) in an object of `size` plaintext bytes: every record but the last holds a whole chunk. */
export function recordBytes(size: number, chunkSize: number, index: number): number {
  const n = chunkCount(size, chunkSize);
  return (index < n - 1 ? chunkSize : size - (n - 1) * chunkSize) + TAG_BYTES;
}

/** Total blob length for a plaintext of `size` bytes: what a reader expects to find. */
export function blobLength(headerBytes: number, size: number, chunkSize: number): number {
  return headerBytes + size + TAG_BYTES * chunkCount(size, chunkSize) + TRAILER_BYTES;
}

export function encodeTrailer(size: number, sha256: Buffer): Buffer {
  const buf = Buffer.alloc(TRAILER_PLAIN_BYTES);
  buf.writeBigUInt64BE(BigInt(size), 0);
  sha256.copy(buf, 8);
  return buf;
}

export function decodeTrailer(buf: Buffer): { size: number; sha256: string } {
  return { size: Number(buf.readBigUInt64BE(0)), sha256: buf.subarray(8, 40).toString('hex') };
}

export function corrupt(id: string, why: string, cause?: unknown): CasedropError {
  return new CasedropError(ErrorCode.ObjectCorrupt, `object ${id} is corrupt: ${why}`, { cause });
}

export function truncated(id: string, why: string): CasedropError {
  return new CasedropError(ErrorCode.ObjectTruncated, `object ${id} is truncated: ${why}`);
}
