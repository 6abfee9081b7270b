import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import { redisKey } from '../redis-keys.js';
import type { ObjectStore } from '../store/types.js';
import type { DurableRecord, RecordCollection, RecordParser } from './types.js';

// KEYS[1]: the record's index hash. ARGV: rev, record JSON. An older revision never replaces a
// newer one, so a rebuild that read the store just before an update cannot undo that update.
const SET_IF_NEWER = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if cur > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'rev', ARGV[1], 'json', ARGV[2])
return 1
`;

/** Longer than any create takes (one fsynced object and one Redis write); a crashed creator's lock expires. */
const CREATE_LOCK_MS = 10_000;

export const recordNamespace = (kind: string): string => `records/${kind}`;
export const recordObjectId = (kind: string, id: string): string => `records/${kind}/${id}`;

/** The facility: one per process, shared by every collection. See ./types.ts for the model. */
export class DurableRecords {
  private readonly kinds = new Map<string, RecordParser<unknown>>();
  private rebuilding: Promise<boolean> | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `exists` makes the domain's error for a create of a record that is already there. */
  collection<T>(kind: string, parse: RecordParser<T>, exists: (id: string) => Error): RecordCollection<T> {
    this.kinds.set(kind, parse as RecordParser<unknown>);
    return new Collection<T>(kind, parse, exists, this);
  }

  /**
   * Rebuilds the index when Redis is not the one it was built in (its run id changes on every
   * restart, and a failover is another server): a Redis that lost its data, or only its last
   * second, gets every record back from the store. Cheap when nothing changed: two commands.
   */
  ensureIndex(): Promise<boolean> {
    return (this.rebuilding ??= this.checkAndRebuild().finally(() => (this.rebuilding = undefined)));
  }

  private async checkAndRebuild(): Promise<boolean> {
    const runId = /run_id:(\w+)/.exec(await this.redis.info('server'))?.[1] ?? '';
    if ((await this.redis.get(this.markerKey())) === runId) return false;
    const counts: Record<string, number> = {};
    for (const kind of this.kinds.keys()) {
      counts[kind] = 0;
      for await (const record of this.scan(kind)) {
        await this.index(kind, record);
        counts[kind]++;
      }
    }
    await this.redis.set(this.markerKey(), runId);
    this.logger.info(
      { event: 'record_index_rebuilt', counts, redisRunId: runId },
      'durable records indexed in Redis (first start, or Redis was restarted or reset)',
    );
    return true;
  }

  /** @internal the collections' storage steps */
  async read<T>(kind: string, id: string): Promise<DurableRecord<T> | null> {
    let text: string;
    try {
      const chunks: Buffer[] = [];
      for await (const c of await this.store.get(recordObjectId(kind, id))) chunks.push(Buffer.from(c as Uint8Array));
      text = Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (isCasedropError(err, ErrorCode.ObjectNotFound)) return null;
      throw err;
    }
    return this.parseRecord<T>(kind, text);
  }

  /** @internal */
  async write<T>(kind: string, record: DurableRecord<T>): Promise<void> {
    // the store first: once the index shows a record, the store already holds it
    await this.store.put(
      recordNamespace(kind),
      Readable.from([Buffer.from(JSON.stringify(record))]),
      { kind: 'record', recordKind: kind, rev: record.rev },
      { name: record.id },
    );
    await this.index(kind, record);
  }

  /** @internal */
  async index<T>(kind: string, record: DurableRecord<T>): Promise<void> {
    await this.redis.eval(SET_IF_NEWER, 1, this.indexKey(kind, record.id), String(record.rev), JSON.stringify(record));
  }

  /** @internal */
  async fromIndex<T>(kind: string, id: string): Promise<DurableRecord<T> | null> {
    const json = await this.redis.hget(this.indexKey(kind, id), 'json');
    return json === null ? null : this.parseRecord<T>(kind, json);
  }

  /** @internal */
  async lockCreate(kind: string, id: string): Promise<(() => Promise<void>) | undefined> {
    const k = redisKey.recordCreateLock(this.prefix, kind, id);
    if ((await this.redis.set(k, '1', 'PX', CREATE_LOCK_MS, 'NX')) !== 'OK') return undefined;
    return async () => void (await this.redis.del(k));
  }

  /** @internal */
  async remove(kind: string, id: string): Promise<void> {
    await this.store.delete(recordObjectId(kind, id));
    await this.redis.del(this.indexKey(kind, id));
  }

  async *scan<T>(kind: string): AsyncIterable<DurableRecord<T>> {
    for await (const id of this.store.names(recordNamespace(kind))) {
      const record = await this.read<T>(kind, id);
      if (record) yield record;
    }
  }

  stamp(): string {
    return this.now().toISOString();
  }

  private parseRecord<T>(kind: string, text: string): DurableRecord<T> {
    const raw = JSON.parse(text) as DurableRecord<unknown>;
    const parse = this.kinds.get(kind) as RecordParser<T>;
    return { id: String(raw.id), rev: Number(raw.rev), updatedAt: String(raw.updatedAt), value: parse(raw.value) };
  }

  private indexKey(kind: string, id: string): string {
    return redisKey.record(this.prefix, kind, id);
  }

  private markerKey(): string {
    return redisKey.recordIndexBuiltBy(this.prefix);
  }
}

class Collection<T> implements RecordCollection<T> {
  constructor(
    readonly kind: string,
    private readonly parse: RecordParser<T>,
    private readonly exists: (id: string) => Error,
    private readonly records: DurableRecords,
  ) {}

  async get(id: string): Promise<DurableRecord<T> | null> {
    const hit = await this.records.fromIndex<T>(this.kind, id);
    if (hit) return hit;
    // a miss costs one stat: Redis may have lost the record (restarted empty, lost its last second)
    const stored = await this.records.read<T>(this.kind, id);
    if (stored) await this.records.index(this.kind, stored);
    return stored;
  }

  async create(id: string, value: T): Promise<DurableRecord<T>> {
    const unlock = await this.records.lockCreate(this.kind, id);
    if (!unlock) throw this.exists(id);
    try {
      if (await this.get(id)) throw this.exists(id);
      const record: DurableRecord<T> = { id, rev: 1, updatedAt: this.records.stamp(), value: this.parse(value) };
      await this.records.write(this.kind, record);
      return record;
    } finally {
      await unlock();
    }
  }

  async update(id: string, change: (current: T) => T): Promise<DurableRecord<T> | null> {
    // from the store, not the index: the index may be a revision behind after a Redis loss
    const current = await this.records.read<T>(this.kind, id);
    if (!current) return null;
    const next: DurableRecord<T> = { id, rev: current.rev + 1, updatedAt: this.records.stamp(), value: this.parse(change(current.value)) };
    await this.records.write(this.kind, next);
    return next;
  }

  delete(id: string): Promise<void> {
    return this.records.remove(this.kind, id);
  }

  scan(): AsyncIterable<DurableRecord<T>> {
    return this.records.scan<T>(this.kind);
  }
}
