import { createHash, randomBytes } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';
import type { MasterKey } from '../keys/ring.js';
import type { ObjectMeta } from './types.js';
import { ObjectCipher, wrapDataKey } from './crypto.js';
import { release } from '../release.js';
import { ThreadHash } from './hash-thread.js';
import { CHUNK_LOG2, CHUNK_SIZE, DATA_KEY_BYTES, encodeHeader, encodeTrailer, MAX_CHUNKS, SALT_BYTES } from './format.js';

/** Plaintext is collected in staging buffers of this size (a multiple of CHUNK_SIZE), each hashed as a whole. */
const STAGE_BYTES = 16 * CHUNK_SIZE;

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
  knownSha256?: string,
): Promise<{ size: number; sha256: string }> {
  const known = knownSha256 === undefined ? undefined : parseSha256(knownSha256);
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
  const { size, sha256 } = await sealContent(body, cipher, out, known);
  await out.push([cipher.sealTrailer(encodeTrailer(size, sha256))]);
  await out.flush();
  dataKey.fill(0);
  return { size, sha256: sha256.toString('hex') };
}

function parseSha256(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new CasedropError(ErrorCode.UsageInvalid, 'a known SHA-256 must be 64 lower-case hex digits');
  return Buffer.from(hex, 'hex');
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
 * costs). Sealing copies the chunk out, so a body may reuse the buffers it yields.
 * The body is collected in 1 MiB staging buffers; once one is full and sealed, its plaintext is
 * hashed on the hash thread (src/store/hash-thread.ts) while the next one fills. An object that
 * fits in one staging buffer is hashed here at the end: a thread hop costs more than that. A body
 * whose digest the caller knows is not hashed at all (a mail worker then never starts the thread).
 */
async function sealContent(
  body: AsyncIterable<Uint8Array | string>,
  cipher: ObjectCipher,
  out: Batcher,
  known: Buffer | undefined,
): Promise<{ size: number; sha256: Buffer }> {
  let stage: Buffer = Buffer.allocUnsafeSlow(STAGE_BYTES);
  let hash: ThreadHash | undefined;
  let start = 0; // where the chunk being filled begins in `stage`
  let fill = 0;
  let index = 0;
  let size = 0;
  const nextIndex = () => {
    if (index >= MAX_CHUNKS) throw new CasedropError(ErrorCode.UsageInvalid, 'object too large for the store format');
    return index++;
  };
  try {
    for await (const piece of body) {
      let data = asBuffer(piece);
      size += data.length;
      while (data.length > 0) {
        if (fill === CHUNK_SIZE) {
          await out.push(cipher.sealChunk(nextIndex(), false, stage.subarray(start, start + CHUNK_SIZE)));
          start += CHUNK_SIZE;
          fill = 0;
          if (start === STAGE_BYTES) {
            if (!known) {
              hash ??= new ThreadHash(STAGE_BYTES);
              stage = await hash.update(stage);
            }
            start = 0;
          }
        }
        const n = data.copy(stage, start + fill, 0, Math.min(data.length, CHUNK_SIZE - fill));
        fill += n;
        data = data.subarray(n);
      }
    }
    await out.push(cipher.sealChunk(nextIndex(), true, stage.subarray(start, start + fill)));
    if (known) {
      release(stage);
      return { size, sha256: known };
    }
    if (hash) return { size, sha256: await hash.digest(stage, start + fill) };
    const sha256 = createHash('sha256')
      .update(stage.subarray(0, start + fill))
      .digest();
    release(stage);
    return { size, sha256 };
  } catch (err) {
    hash?.abort();
    throw err;
  }
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
