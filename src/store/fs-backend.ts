import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, opendir, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobBackend, BlobReader, BlobWriter, DeleteOptions } from './backend.js';
import { isProcessAlive, isStaleTemp, newTempName, tempsInFlight, thisHost } from './fs-temp.js';
import { storeWriteBytes } from '../metrics.js';
import { DIRECT_ALIGN, DIRECT_FROM_BYTES, DirectTail, directWrites, O_DIRECT, roundUp } from './direct-io.js';
import { OBJECT_SUFFIX } from './names.js';
import { FdOps, fdatasyncFd, fsyncFd, isMissing, readAtMost, unlessMissing, writeAllAt } from './quick-fs.js';

/**
 * Blobs as files under `<dataDir>/objects/<namespace…>/<name>.cdo`; writes go to
 * `objects/.tmp/`, are fsynced, renamed into place and the directory fsynced, so a crash
 * leaves either the old object or the new one, never half of one.
 */
export class FsBlobBackend implements BlobBackend {
  readonly root: string;
  readonly tempDir: string;
  /** directories known to exist and be durable: namespaces are few, writes many */
  private readonly knownDirs = new Set<string>();

  /** large objects bypass the page cache where the file system allows (src/store/direct-io.ts) */
  readonly useDirectIo: boolean;

  constructor(dataDir: string, options: { directIo?: boolean } = {}) {
    this.useDirectIo = options.directIo ?? true;
    this.root = join(dataDir, 'objects');
    this.tempDir = join(this.root, '.tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.tempDir, { recursive: true, mode: 0o700 });
    await this.removeStaleTemps();
  }

  removeStaleTemps(now = Date.now()): Promise<number> {
    return removeStaleTemps(this.tempDir, now);
  }

  async createWriteTemp(): Promise<BlobWriter> {
    const name = newTempName();
    const path = join(this.tempDir, name);
    tempsInFlight.add(name);
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      return new FsTempWriter(fd, name, path, this);
    } catch (err) {
      tempsInFlight.delete(name);
      throw err;
    }
  }

  async openRead(key: string): Promise<BlobReader | undefined> {
    const fd = unlessMissing(() => openSync(this.pathOf(key), 'r'), undefined);
    if (fd === undefined) return undefined;
    try {
      const s = fstatSync(fd, { bigint: true });
      return new FsReader(fd, Number(s.size), versionOf(s));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return statSync(this.pathOf(key), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  async list(prefix: string): Promise<string[]> {
    const dirPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const found: string[] = [];
    await this.walk(join(this.root, ...dirPart.split('/').filter(Boolean)), found);
    return found.filter((id) => id.startsWith(prefix)).sort();
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const path = this.pathOf(key);
    const gone = unlessMissing(() => (unlinkSync(path), true), false);
    // a purge must survive a crash too; a deletion whose loss only repeats idempotent work need not
    if (gone && !options.mayReappear) await syncDir(dirname(path));
    return gone;
  }

  async *names(namespace: string): AsyncIterable<string> {
    const dir = await opendir(join(this.root, ...namespace.split('/')), { bufferSize: 256 }).catch(ifMissing(undefined));
    if (!dir) return;
    // opendir reads the directory in batches (readdir would build the whole array first)
    for await (const e of dir) {
      if (e.isFile() && e.name.endsWith(OBJECT_SUFFIX) && !e.name.startsWith('.')) yield e.name.slice(0, -OBJECT_SUFFIX.length);
    }
  }

  async move(from: string, to: string): Promise<boolean> {
    const target = this.pathOf(to);
    await this.ensureDir(dirname(target));
    const moved = unlessMissing(() => (renameSync(this.pathOf(from), target), true), false);
    if (moved) {
      // both directories: the object must be in exactly one of them after a crash
      await syncDir(dirname(target));
      await syncDir(dirname(this.pathOf(from)));
    }
    return moved;
  }

  pathOf(key: string): string {
    return join(this.root, ...key.split('/')) + OBJECT_SUFFIX;
  }

  /** Directories are created once per namespace; their own entries must be durable too. */
  async ensureDir(dir: string, options: { recheck?: boolean } = {}): Promise<void> {
    if (this.knownDirs.has(dir) && !options.recheck) return;
    const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (first !== undefined) {
      for (let d = dir; ; d = dirname(d)) {
        await syncDir(dirname(d));
        if (d === first) break;
      }
    }
    this.knownDirs.add(dir);
  }

  private async walk(dir: string, found: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(ifMissing([]));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await this.walk(path, found);
      else if (e.isFile() && e.name.endsWith(OBJECT_SUFFIX)) {
        found.push(relative(this.root, path).slice(0, -OBJECT_SUFFIX.length).split(sep).join('/'));
      }
    }
  }
}

/**
 * Written bytes after which a temp blob starts flushing them to disk (fdatasync in the
 * background, while writing goes on): the fsync at commit then has at most this much left,
 * instead of a whole large object at once (gigabytes when the page cache holds them all). Only
 * page-cache writes count: past DIRECT_FROM_BYTES a large object normally goes direct.
 */
const FLUSH_EVERY_BYTES = 32 << 20;
/**
 * Background flushes running in this process. One at most: each holds one of libuv's four pool
 * threads for as long as the disk takes, and the pool also encrypts (src/store/crypto.ts) and
 * writes. A writer that finds one running flushes later; its commit fsyncs whatever is left.
 */
let flushesRunning = 0;

class FsTempWriter implements BlobWriter {
  private open = true;
  private done = false;
  private unflushed = 0;
  private position = 0;
  private readonly ops = new FdOps();
  private flushing: Promise<void> | undefined;
  private flushError: unknown;
  /** past DIRECT_FROM_BYTES, where the object's bytes go (src/store/direct-io.ts) */
  private direct: DirectTail | undefined;
  private directFd: number | undefined;
  private directTried = false;

  constructor(
    private readonly fd: number,
    private readonly name: string,
    private readonly path: string,
    private readonly backend: FsBlobBackend,
  ) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.flushError !== undefined) throw this.flushError;
    if (!this.open) throw new Error('write after the temp file was closed');
    const at = this.position;
    const length = chunks.reduce((n, c) => n + c.byteLength, 0);
    this.position += length;
    if (this.direct) return this.direct.append(chunks);
    if (at + length >= DIRECT_FROM_BYTES && !this.directTried) {
      this.directTried = true;
      // the page-cache part ends at an aligned offset, the rest goes past the page cache
      const boundary = Math.min(roundUp(at, DIRECT_ALIGN), at + length);
      this.direct = this.startDirect(boundary);
      if (this.direct) {
        const [head, tail] = splitAt(chunks, boundary - at);
        await Promise.all([head.length > 0 && this.writeBuffered(head, at), this.direct.append(tail)]);
        return;
      }
    }
    const pastThreshold = at + length - Math.max(at, DIRECT_FROM_BYTES);
    if (pastThreshold > 0) storeWriteBytes.inc({ path: 'page-cache' }, pastThreshold);
    await this.writeBuffered(chunks, at);
  }

  private async writeBuffered(chunks: readonly Uint8Array[], at: number): Promise<void> {
    this.unflushed += await this.ops.track(writeAllAt(this.fd, chunks, at));
    if (this.unflushed >= FLUSH_EVERY_BYTES && this.flushing === undefined && flushesRunning === 0) this.startFlush();
  }

  /** A second descriptor of the temp file that bypasses the page cache, or undefined where it cannot. */
  private startDirect(position: number): DirectTail | undefined {
    if (!this.backend.useDirectIo || O_DIRECT === undefined || directWrites.refused) return undefined;
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_WRONLY | O_DIRECT);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      directWrites.refused = true;
      return undefined;
    }
    const tail = DirectTail.start(fd, this.fd, position, this.ops);
    if (tail) this.directFd = fd;
    else closeSync(fd);
    return tail;
  }

  private startFlush(): void {
    this.unflushed = 0;
    flushesRunning++;
    // a failure surfaces at the next write or at commit, never as an unhandled rejection
    this.flushing = this.ops.track(fdatasyncFd(this.fd)).then(
      () => undefined,
      (err: unknown) => void (this.flushError ??= err),
    );
    void this.flushing.then(() => {
      flushesRunning--;
      this.flushing = undefined;
    });
  }

  async commit(key: string, options: { ifVersion?: string } = {}): Promise<boolean> {
    await this.flushing;
    if (this.flushError !== undefined) throw this.flushError;
    await this.direct?.finish((size) => ftruncateSync(this.fd, size));
    await this.ops.track(fsyncFd(this.fd));
    await this.close();
    const target = this.backend.pathOf(key);
    await this.backend.ensureDir(dirname(target));
    if (options.ifVersion !== undefined && currentVersion(target) !== options.ifVersion) {
      await this.abort();
      return false;
    }
    try {
      renameSync(this.path, target);
    } catch (err) {
      // the namespace directory was removed behind our back (an operator's clean-up): make it again
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.backend.ensureDir(dirname(target), { recheck: true });
      renameSync(this.path, target);
    }
    this.finish();
    await syncDir(dirname(target));
    return true;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    await this.close().catch(() => undefined);
    unlessMissing(() => unlinkSync(this.path), undefined);
    this.finish();
  }

  private async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.direct?.settled();
    await this.ops.settled();
    closeSync(this.fd);
    if (this.directFd !== undefined) closeSync(this.directFd);
    this.direct?.release();
  }

  private finish(): void {
    this.done = true;
    tempsInFlight.delete(this.name);
  }
}

class FsReader implements BlobReader {
  private readonly ops = new FdOps();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    readonly size: number,
    readonly version: string,
  ) {}

  read(position: number, length: number): Promise<Buffer> {
    if (this.closing) return Promise.reject(new Error('read after the blob was closed'));
    return this.ops.track(readAtMost(this.fd, position, length));
  }

  close(): Promise<void> {
    return (this.closing ??= this.ops.settled().then(() => closeSync(this.fd)));
  }
}

/** `chunks` as the first `n` bytes and the rest (views, no copies). */
function splitAt(chunks: readonly Uint8Array[], n: number): [Uint8Array[], Uint8Array[]] {
  const head: Uint8Array[] = [];
  const tail: Uint8Array[] = [];
  for (const c of chunks) {
    const take = Math.min(n, c.byteLength);
    if (take > 0) head.push(c.subarray(0, take));
    if (take < c.byteLength) tail.push(c.subarray(take));
    n -= take;
  }
  return [head, tail];
}

/**
 * Removes the temp files in `dir` that a crashed writer left (src/store/fs-temp.ts decides which):
 * the store's `objects/.tmp` and the outbox's temp dir both start with it.
 */
export async function removeStaleTemps(dir: string, now = Date.now()): Promise<number> {
  const here = { host: thisHost, pid: process.pid, now, inFlight: tempsInFlight, isAlive: isProcessAlive };
  let removed = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const facts = await stat(path).catch(() => undefined);
    if (facts && isStaleTemp({ name, mtimeMs: facts.mtimeMs }, here)) {
      await unlink(path).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}

/**
 * fsync a directory, so an entry created, renamed or removed in it survives a crash. Group commit:
 * an fsync of a directory covers every entry changed in it before the fsync began, so a caller
 * that finds one running joins the next one (which starts when the running one ends) together with
 * every other caller that arrives meanwhile. Under a burst, many objects of one namespace cost one
 * directory fsync, and each caller still returns only after an fsync that began after its change.
 */
export function syncDir(dir: string): Promise<void> {
  const running = dirSyncs.get(dir);
  if (!running) return beginDirSync(dir);
  running.next ??= running.done.then(noop, noop).then(() => beginDirSync(dir));
  return running.next;
}

interface DirSync {
  done: Promise<void>;
  /** the fsync that starts once `done` settles, shared by every caller that arrived meanwhile */
  next?: Promise<void>;
}
const dirSyncs = new Map<string, DirSync>();
const noop = (): void => undefined;

function beginDirSync(dir: string): Promise<void> {
  const entry: DirSync = { done: fsyncDir(dir) };
  dirSyncs.set(dir, entry);
  void entry.done.then(noop, noop).then(() => {
    if (dirSyncs.get(dir) === entry) dirSyncs.delete(dir);
  });
  return entry.done;
}

/** Directory fsyncs this process began, so tests can prove which steps still pay one. */
export const dirSyncsBegun = { count: 0 };

async function fsyncDir(dir: string): Promise<void> {
  dirSyncsBegun.count++;
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

function versionOf(s: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}`;
}

function currentVersion(path: string): string | undefined {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  return s ? versionOf(s) : undefined;
}

function ifMissing<T>(value: T): (err: unknown) => T {
  return (err) => {
    if (isMissing(err)) return value;
    throw err;
  };
}
