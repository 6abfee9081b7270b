import { createHash, randomBytes } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';
import type { MasterKey } from '../keys/ring.js';
import type { ObjectMeta, PutOptions } from './types.js';
import { ObjectCipher, wrapDataKey } from './crypto.js';
import { release } from '../release.js';
import { ThreadHash } from './hash-thread.js';
import { CHUNK_LOG2, DATA_KEY_BYTES, encodeHeader, encodeTrailer, MAX_CHUNK_LOG2, MAX_CHUNKS, MIN_CHUNK_LOG2, SALT_BYTES } from './format.js';

/** Plaintext is collected in staging buffers of this size (or of one chunk, if bigger), each hashed as a whole. */
const STAGE_BYTES = 1 << 20;

/**
 * Ciphertext is handed to the backend in batches of about this size: few syscalls, bounded memory.
 * The size of a direct-write slot (src/store/direct-io.ts): 1 MiB held more per upload for nothing
 * (four 100 MiB uploads peaked at 118.7-119.8 MiB RSS against 113.8-118.0 with 512 KiB, and one
 * 2 GiB upload ran as fast or faster).
 */
const BATCH_BYTES = 512 * 1024;
/**
 * Batches being written at once per object. With one, a write that stalls (the page cache making
 * room, a background flush holding the journal) stops encryption and, through the body's
 * backpressure, the upload: three kept one 2 GiB upload ~8 % faster here (1 MiB batches, written
 * through the page cache), but each is a batch held per upload, and four uploads at once then
 * peaked at 124–128 MiB RSS against the 120 MiB target of issue 16 (one: 114–119). Two is the
 * compromise.
 */
const IN_FLIGHT = 2;

/** Called again before the previous call settled (IN_FLIGHT): each call's bytes go after the previous call's. */
export type Sink = (chunks: Buffer[]) => Promise<void>;

/**
 * Encrypts one object into `sink` in constant memory: a fresh data key wrapped under the active
 * master key (format 1) or the object's own key (format 2), the meta section, 256 KiB chunks (the last one marked final) and the trailer.
 */
export async function writeObject(
  id: string,
  body: AsyncIterable<Uint8Array | string>,
  meta: ObjectMeta,
  wrapping: { version: number; wrapKey: MasterKey },
  sink: Sink,
  options: Pick<PutOptions, 'sha256' | 'chunkLog2'> = {},
): Promise<{ size: number; sha256: string }> {
  const known = options.sha256 === undefined ? undefined : parseSha256(options.sha256);
  const chunkLog2 = options.chunkLog2 ?? CHUNK_LOG2;
  if (!Number.isInteger(chunkLog2) || chunkLog2 < MIN_CHUNK_LOG2 || chunkLog2 > MAX_CHUNK_LOG2) {
    throw new CasedropError(ErrorCode.UsageInvalid, `chunkLog2 must be an integer from ${MIN_CHUNK_LOG2} to ${MAX_CHUNK_LOG2}`);
  }
  const dataKey = randomBytes(DATA_KEY_BYTES);
  const salt = randomBytes(SALT_BYTES);
  const cipher = new ObjectCipher(dataKey, salt, id, chunkLog2);
  const metaPlain = Buffer.from(metaJson(meta), 'utf8');
  const header = encodeHeader({
    version: wrapping.version,
    chunkLog2,
    salt,
    wrap: wrapDataKey(dataKey, wrapping.wrapKey, salt, id),
    meta: cipher.sealMeta(metaPlain),
  });
  const out = new Batcher(sink);
  await out.push([header]);
  const { size, sha256 } = await sealContent(body, cipher, out, known, 1 << chunkLog2);
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
 * Cuts the body into chunkSize pieces. A full chunk is sealed only once more input arrives, so
 * the last one (possibly empty) can carry the final flag without knowing the size up front.
 * Chunks are sealed on the event loop, synchronously: AES-GCM with AES-NI costs less than handing
 * a chunk to the thread pool (WebCrypto copies the input, allocates promises and an ArrayBuffer per
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
  chunkSize: number,
): Promise<{ size: number; sha256: Buffer }> {
  const stageBytes = Math.max(STAGE_BYTES, chunkSize);
  let stage: Buffer = Buffer.allocUnsafeSlow(stageBytes);
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
        if (fill === chunkSize) {
          await out.push(cipher.sealChunk(nextIndex(), false, stage.subarray(start, start + chunkSize)));
          start += chunkSize;
          fill = 0;
          if (start === stageBytes) {
            if (!known) {
              hash ??= new ThreadHash(stageBytes);
              stage = await hash.update(stage);
            }
            start = 0;
          }
        }
        const n = data.copy(stage, start + fill, 0, Math.min(data.length, chunkSize - fill));
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
 * Collects ciphertext and hands it to the sink in ~512 KiB batches, keeping up to IN_FLIGHT batches
 * being written so the disk writes (on libuv's thread pool) overlap with encrypting the next ones. Every buffer
 * pushed here is the writer's own, so once written it is released (src/release.ts).
 */
class Batcher {
  private pending: Buffer[] = [];
  private bytes = 0;
  private readonly inFlight: Promise<void>[] = [];

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
    while (this.inFlight.length >= IN_FLIGHT) await this.inFlight.shift();
    if (this.pending.length === 0) return;
    const out = this.pending;
    this.pending = [];
    this.bytes = 0;
    const writing = this.sink(out).then(() => out.forEach((chunk) => release(chunk)));
    // a failure is rethrown when it is awaited; until then it must not count as unhandled
    writing.catch(() => undefined);
    this.inFlight.push(writing);
  }

  private async settle(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }
}
