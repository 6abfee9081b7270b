import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';
import type { KeyRing, MasterKey } from '../keys/ring.js';
import { CONTENT_VERSION, corrupt, TAG_BYTES, WRAP_NONCE_BYTES, type WrappedKey } from './format.js';

const ALGORITHM = 'aes-256-gcm';
const Part = { Chunk: 1, Meta: 2, Trailer: 3 } as const;
type Part = (typeof Part)[keyof typeof Part];
const META_INDEX = 0xffffffff;
const TRAILER_INDEX = 0xfffffffe;

/**
 * AES-256-GCM under one object's data key. Nonce = salt (8) ‖ index (4), unique per data key.
 * AAD = format version, chunk size, salt, object id, part kind, index and a final flag: a chunk
 * moved to another position or object, a dropped final chunk, or a renamed file fails its tag.
 */
export class ObjectCipher {
  private readonly nonce = Buffer.alloc(12);
  private readonly aad: Buffer;
  private readonly tail: number;

  constructor(
    private readonly dataKey: Buffer,
    salt: Buffer,
    objectId: string,
    chunkLog2: number,
  ) {
    salt.copy(this.nonce, 0);
    const base = Buffer.concat([Buffer.from('casedrop/object\0', 'latin1'), Buffer.from([CONTENT_VERSION, chunkLog2]), salt, Buffer.from(objectId, 'utf8')]);
    this.tail = base.length;
    this.aad = Buffer.concat([base, Buffer.alloc(6)]);
  }

  sealChunk(index: number, final: boolean, plain: Uint8Array): [Buffer, Buffer] {
    return this.seal(Part.Chunk, index, final, plain);
  }

  /** Returns the plaintext only after its tag verified; throws otherwise. */
  openChunk(index: number, final: boolean, sealed: Buffer): Buffer {
    return this.open(Part.Chunk, index, final, sealed);
  }

  sealMeta(plain: Uint8Array): Buffer {
    return Buffer.concat(this.seal(Part.Meta, META_INDEX, true, plain));
  }

  openMeta(sealed: Buffer): Buffer {
    return this.open(Part.Meta, META_INDEX, true, sealed);
  }

  sealTrailer(plain: Uint8Array): Buffer {
    return Buffer.concat(this.seal(Part.Trailer, TRAILER_INDEX, true, plain));
  }

  openTrailer(sealed: Buffer): Buffer {
    return this.open(Part.Trailer, TRAILER_INDEX, true, sealed);
  }

  private seal(part: Part, index: number, final: boolean, plain: Uint8Array): [Buffer, Buffer] {
    const cipher = createCipheriv(ALGORITHM, this.dataKey, this.setNonce(index), { authTagLength: TAG_BYTES });
    cipher.setAAD(this.setAad(part, index, final));
    const ct = cipher.update(plain);
    cipher.final();
    return [ct, cipher.getAuthTag()];
  }

  private open(part: Part, index: number, final: boolean, sealed: Buffer): Buffer {
    if (sealed.length < TAG_BYTES) throw new Error('shorter than a tag');
    const decipher = createDecipheriv(ALGORITHM, this.dataKey, this.setNonce(index), { authTagLength: TAG_BYTES });
    decipher.setAAD(this.setAad(part, index, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    decipher.final();
    return plain;
  }

  // both buffers are copied by OpenSSL when the cipher is set up, so reusing them is safe
  private setNonce(index: number): Buffer {
    this.nonce.writeUInt32BE(index, 8);
    return this.nonce;
  }

  private setAad(part: Part, index: number, final: boolean): Buffer {
    this.aad.writeUInt8(part, this.tail);
    this.aad.writeUInt32BE(index, this.tail + 1);
    this.aad.writeUInt8(final ? 1 : 0, this.tail + 5);
    return this.aad;
  }
}

function wrapAad(master: MasterKey | { id: string }, salt: Buffer, objectId: string): Buffer {
  return Buffer.concat([Buffer.from(`casedrop/wrap\0${master.id}\0`, 'latin1'), salt, Buffer.from(objectId, 'utf8')]);
}

export function wrapDataKey(dataKey: Buffer, master: MasterKey, salt: Buffer, objectId: string): WrappedKey {
  const nonce = randomBytes(WRAP_NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, master.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(wrapAad(master, salt, objectId));
  const sealed = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { keyId: master.id, check: master.check, nonce, sealed };
}

/** KEY_UNKNOWN when the ring lacks the object's key (by id or by check value), else CORRUPT on a bad tag. */
export function unwrapDataKey(wrap: WrappedKey, keys: KeyRing, salt: Buffer, objectId: string): Buffer {
  const master = keys.get(wrap.keyId);
  if (!master) throw new CasedropError(ErrorCode.KeyUnknown, `object ${objectId} was written under master key "${wrap.keyId}", which is not configured`);
  if (!master.check.equals(wrap.check)) {
    throw new CasedropError(ErrorCode.KeyUnknown, `object ${objectId} was written under a different master key than the configured "${wrap.keyId}"`);
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, master.key, wrap.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(wrapAad(master, salt, objectId));
    decipher.setAuthTag(wrap.sealed.subarray(wrap.sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(wrap.sealed.subarray(0, wrap.sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw corrupt(objectId, 'its data key does not unwrap', err);
  }
}
