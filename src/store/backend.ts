/**
 * Where ciphertext lives. The crypto layer above never touches files, so an S3-compatible
 * backend (multipart upload + range GET + conditional copy) can replace the filesystem one
 * without changing callers. Keys are validated object ids (`namespace/name`).
 */
export interface BlobWriter {
  /**
   * Appends bytes after those of the previous call, even when that call has not settled yet (the
   * object writer keeps several batches in flight). Keeps no reference to `chunks` once settled:
   * the writer releases them (src/release.ts).
   */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /**
   * Makes the blob durable, then visible under `key`, atomically replacing an older blob.
   * With `ifVersion`, commits only if the current blob still has that version (else discards
   * the temp and returns false): a rewrap must never resurrect a deleted or replaced object.
   */
  commit(key: string, options?: { ifVersion?: string }): Promise<boolean>;
  /** Discards the temp blob. Safe after a failed write or commit, and more than once. */
  abort(): Promise<void>;
}

export interface DeleteOptions {
  mayReappear?: boolean;
}

export interface BlobReader {
  readonly size: number;
  /** Changes whenever the blob is replaced (fs: inode + mtime; S3: ETag). */
  readonly version: string;
  /** Up to `length` bytes at `position`; shorter only at the end of the blob. */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface BlobBackend {
  /** Prepares storage and removes temp blobs left by crashed writers. */
  init(): Promise<void>;
  createWriteTemp(): Promise<BlobWriter>;
  /** undefined when there is no such blob. */
  openRead(key: string): Promise<BlobReader | undefined>;
  exists(key: string): Promise<boolean>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * true when something was deleted. Durable before it resolves, unless `mayReappear`: then a power
   * loss may bring the blob back (no directory fsync), for callers whose re-run of a reappeared blob
   * only repeats idempotent work.
   */
  delete(key: string, options?: DeleteOptions): Promise<boolean>;
  /**
   * The names directly in one namespace, streamed in no particular order: a recovery scan of
   * 100,000 spool objects holds one directory entry at a time, not the whole listing.
   */
  names(namespace: string): AsyncIterable<string>;
  /**
   * Moves a blob's bytes to another key as they are (no re-encryption: the object id is bound into
   * its authentication, so the moved blob no longer reads; it is evidence, kept for an operator).
   * Durable like a commit. false when there was nothing to move.
   */
  move(from: string, to: string): Promise<boolean>;
}
