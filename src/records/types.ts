/**
 * Durable records: small JSON values that nothing else can rebuild (cases today; upload tokens,
 * case contacts and audit entries next). The encrypted object store holds the truth, one object
 * `records/<kind>/<id>` per record, fsynced before a write returns; Redis holds an index of the
 * same values (`<prefix>:rec:<kind>:<id>`) so the SMTP door's per-message look-up is one round
 * trip. The index is rebuilt from the store at start and whenever Redis was restarted, reset or
 * failed over (its run id changed), and a miss in the index is checked against the store, so a
 * Redis that forgot everything never makes a record disappear.
 *
 * How to move a Redis-only record onto this (see docs/lifecycle.md):
 *   const tokens = records.collection<UploadToken>('upload-token', parseUploadToken);
 *   await tokens.create(id, value);  await tokens.get(id);  await tokens.update(id, (t) => ({ ...t, used: true }));
 * `kind` and `id` are object-name segments ([A-Za-z0-9._-], not starting with a dot).
 */
export interface DurableRecord<T> {
  id: string;
  /** 1 on create, +1 per update: the index never lets an older revision replace a newer one */
  rev: number;
  updatedAt: string;
  value: T;
}

export interface RecordCollection<T> {
  readonly kind: string;
  /** Index first; on a miss the store, which re-indexes what it finds. */
  get(id: string): Promise<DurableRecord<T> | null>;
  /** Fails with `exists()` when the record is already there (in the store or the index). */
  create(id: string, value: T): Promise<DurableRecord<T>>;
  /** Read-modify-write of an existing record; null when there is none. Last writer wins. */
  update(id: string, change: (current: T) => T): Promise<DurableRecord<T> | null>;
  delete(id: string): Promise<void>;
  /** Every record of the kind, read from the store (the truth), one at a time. */
  scan(): AsyncIterable<DurableRecord<T>>;
}

/** Turns stored JSON back into a value; throws on anything else (a damaged or foreign record). */
export type RecordParser<T> = (value: unknown) => T;
