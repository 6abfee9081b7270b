import { EventEmitter, once } from 'node:events';
import type { Readable } from 'node:stream';
import type { ObjectInfo, ObjectMeta, ObjectStore, PutOptions, PutResult } from '../../src/store/types.js';

/**
 * The real store with a hand on spool writes: it says when a put starts (so a test can break
 * something while the message is streaming) and can make the next put fail after reading a few
 * bytes, as a full disk or a broken disk would.
 */
export class FaultyStore implements ObjectStore {
  readonly events = new EventEmitter();
  private failure: (() => Error) | undefined;

  constructor(private readonly inner: ObjectStore) {}

  failNextPut(make: () => Error): void {
    this.failure = make;
  }

  nextPut(): Promise<unknown[]> {
    return once(this.events, 'put');
  }

  async put(namespace: string, body: Readable | AsyncIterable<Uint8Array>, meta: ObjectMeta, options?: PutOptions): Promise<PutResult> {
    this.events.emit('put', namespace);
    const failure = this.failure;
    if (!failure) return this.inner.put(namespace, body, meta, options);
    this.failure = undefined;
    // read a little, as a writer does before the disk says no
    for await (const chunk of body) if (chunk.length > 0) break;
    throw failure();
  }

  get(id: string): Promise<Readable> {
    return this.inner.get(id);
  }
  head(id: string): Promise<ObjectInfo> {
    return this.inner.head(id);
  }
  exists(id: string): Promise<boolean> {
    return this.inner.exists(id);
  }
  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }
  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
  names(namespace: string): AsyncIterable<string> {
    return this.inner.names(namespace);
  }
  quarantine(id: string): Promise<string> {
    return this.inner.quarantine(id);
  }
}

export const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
