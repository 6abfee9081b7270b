import type { Readable } from 'node:stream';

/**
 * The encrypted object store seen by every stage. Ids are `namespace/name`
 * (e.g. `spool/<spoolId>`, `cases/612345678/<fileId>`, `outcomes/<spoolId>`).
 * Content and metadata are both encrypted; callers never see ciphertext or keys.
 */
export type ObjectMeta = Record<string, unknown>;

export interface PutResult {
  id: string;
  size: number;
  /** hex SHA-256 of the plaintext */
  sha256: string;
}

export interface ObjectInfo extends PutResult {
  createdAt: string;
  keyId: string;
  meta: ObjectMeta;
}

export interface PutOptions {
  /** Fixed name inside the namespace; makes the write idempotent (a retry replaces, never duplicates). */
  name?: string;
  /**
   * Hex SHA-256 the caller already computed over exactly the bytes of `body` (an attachment held in
   * memory, hashed for its metadata): sealed into the trailer as given instead of hashing again.
   */
  sha256?: string;
  /** log2 of the chunk size to write with (format.ts); the current size when absent. Older objects used 16. */
  chunkLog2?: number;
}

export interface ObjectStore {
  put(namespace: string, body: Readable | AsyncIterable<Uint8Array>, meta: ObjectMeta, options?: PutOptions): Promise<PutResult>;
  get(id: string): Promise<Readable>;
  head(id: string): Promise<ObjectInfo>;
  exists(id: string): Promise<boolean>;
  /** Ids under a prefix such as `cases/612345678/`, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Durable before it resolves (a purge survives a power loss). With `mayReappear`, a power loss may
   * bring the object back, unreadable if it had its own key (the key's destruction is durable): only
   * for a caller whose re-run of the reappeared object repeats idempotent work without reading it
   * (the intake's spool object once its outcome is recorded).
   */
  delete(id: string, options?: { mayReappear?: boolean }): Promise<void>;
  /** Names (not ids) directly in `namespace`, streamed, unordered: for scans over huge namespaces. */
  names(namespace: string): AsyncIterable<string>;
  /**
   * Moves a damaged object to `quarantine/<its id with / as .>.<ms>` untouched, so no stage reads it
   * again and an operator can still look at it. Returns the quarantine id.
   */
  quarantine(id: string): Promise<string>;
}
