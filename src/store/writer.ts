import { createHash, randomBytes } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';
import type { MasterKey } from '../keys/ring.js';
import type { ObjectMeta } from './types.js';
import { ObjectCipher, wrapDataKey } from './crypto.js';
import { release } from '../release.js';
import { CHUNK_LOG2, CHUNK_SIZE, DATA_KEY_BYTES, encodeHeader, encodeTrailer, MAX_CHUNKS, SALT_BYTES } from './format.js';

/** Ciphertext is handed to the backend in batches of about this size: few syscalls, bounded memory. */
const BATCH_BYTES = 1 << 20;

export type Sink = (chunks: Buffer[]) => Promise<void>;

/**
 * Encrypts one object into `sink` in constant memory: a fresh data key wrapped under the active
 * master key (format 1) or the object's own key (format 2), the meta section, 64 KiB chunks (the last one marked final) and the trailer.
 */
export async function writeObject(
  id: string,
  body: AsyncIterable<Uint8Array | string>,
  meta: ObjectMeta,
  wrapping: { version: number; wrapKey: MasterKey },
  sink: Sink,
): Promise<{ size: number; sha256: string }> {
  const dataKey = randomBytes(DATA_KEY_BYTES);
  const salt = randomBytes(SALT_BYTES);
  const cipher = new ObjectCipher(dataKey, salt, id, CHUNK_LOG2);
  const metaPlain = Buffer.from(metaJson(meta), 'utf8');
  const header = encodeHeader({
    version: wrapping.version,
    chunkLog2: CHUNK_LOG2,
    salt,
    wrap: wrapDataKey(dataKey, wrapping.wrapKey, salt, id),
    meta: cipher.sealMeta(metaPlain),
  });
  const out = new Batcher(sink);
  await out.push([header]);
  const { size, sha256 } = await sealContent(body, cipher, out);
  await out.push([cipher.sealTrailer(encodeTrailer(size, sha256))]);
  await out.flush();
  dataKey.fill(0);
  return { size, sha256: sha256.toString('hex') };
}

function metaJson(meta: ObjectMeta): string {
  try {
    return JSON.stringify({ createdAt: new Date().toISOString(), meta });
  } catch (err) {
    throw new CasedropError(ErrorCode.UsageInvalid, 'object meta must be JSON-serializable', { cause: err });
  }
}

/**
 * Cuts the body into CHUNK_SIZE pieces. A full chunk is sealed only once more input arrives, so
 * the last one (possibly empty) can carry the final flag without knowing the size up front.
 * Chunks are sealed on the event loop, synchronously: AES-GCM with AES-NI costs less than handing
 * 64 KiB to the thread pool (WebCrypto copies the input, allocates promises and an ArrayBuffer per
 * chunk, and the garbage it leaves made V8 collect far more often than the encryption itself
 * costs). Sealing copies the chunk out, so one staging buffer serves the whole object and a body
 * may reuse the buffers it yields.
 */
async function sealContent(body: AsyncIterable<Uint8Array | string>, cipher: ObjectCipher, out: Batcher): Promise<{ size: number; sha256: Buffer }> {
  const hash = createHash('sha256');
  const staging = Buffer.allocUnsafeSlow(CHUNK_SIZE);
  let index = 0;
  let fill = 0;
  let size = 0;
  const sealFull = () => {
    if (index >= MAX_CHUNKS) throw new CasedropError(ErrorCode.UsageInvalid, 'object too large for the store format');
    return cipher.sealChunk(index++, false, staging);
  };
  for await (const piece of body) {
    let data = asBuffer(piece);
    hash.update(data);
    size += data.length;
    while (data.length > 0) {
      if (fill === CHUNK_SIZE) {
        await out.push(sealFull());
        fill = 0;
      }
      const n = data.copy(staging, fill, 0, Math.min(data.length, CHUNK_SIZE - fill));
      fill += n;
      data = data.subarray(n);
    }
  }
  if (index >= MAX_CHUNKS) throw new CasedropError(ErrorCode.UsageInvalid, 'object too large for the store format');
  await out.push(cipher.sealChunk(index, true, staging.subarray(0, fill)));
  return { size, sha256: hash.digest() };
}

function asBuffer(piece: Uint8Array | string): Buffer {
  if (typeof piece === 'string') return Buffer.from(piece, 'utf8');
  return Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
}

/**
 * Collects ciphertext and hands it to the sink in ~1 MiB batches, keeping one batch in flight so
 * the disk write (on libuv's thread pool) overlaps with encrypting the next batch. Every buffer
 * pushed here is the writer's own, so once written it is released (src/release.ts).
 */
class Batcher {
  private pending: Buffer[] = [];
  private bytes = 0;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly sink: Sink) {}

  async push(bufs: Buffer[]): Promise<void> {
    for (const b of bufs) {
      this.pending.push(b);
      this.bytes += b.length;
    }
    if (this.bytes >= BATCH_BYTES) await this.send();
  }

  /** Sends what is pending and waits until everything was written. */
  async flush(): Promise<void> {
    await this.send();
    await this.settle();
  }

  private async send(): Promise<void> {
    await this.settle();
    if (this.pending.length === 0) return;
    const out = this.pending;
    this.pending = [];
    this.bytes = 0;
    this.inFlight = this.sink(out).then(() => out.forEach((chunk) => release(chunk)));
    // a failure is rethrown by the next settle(); until then it must not count as unhandled
    this.inFlight.catch(() => undefined);
  }

  private async settle(): Promise<void> {
    const running = this.inFlight;
    this.inFlight = undefined;
    await running;
  }
}
