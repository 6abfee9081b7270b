import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { caseFilesNamespace } from '../jobs/ids.js';
import type { ObjectStore } from '../store/types.js';
import type { DeviceChannel, DriveLogin, FinishedUpload, OpenUpload, UploadEntry, UploadSink } from './ports.js';

/**
 * Interim upload sink over the encrypted store, until the one intake path (issue 16) takes
 * finished files: a partial upload is a run of encrypted segments, one per connection that sent
 * bytes, under `drive/<case>/<token id>/partial/<name key>/`; a dropped connection commits the
 * bytes that arrived as one more segment, so a resume continues from the sum of their sizes.
 * Finishing streams the segments, in order, into one case file.
 */
export function storeUploadSink(store: ObjectStore, logger: Logger): UploadSink {
  const base = (login: DriveLogin) => `drive/${login.caseNumber}/${login.token.id}`;
  const partialNs = (login: DriveLogin, name: string) => `${base(login)}/partial/${nameKey(name)}`;
  const storedNs = (login: DriveLogin) => `${base(login)}/stored`;

  const segments = async (login: DriveLogin, name: string) => {
    const ids = await store.list(`${partialNs(login, name)}/`);
    return Promise.all(ids.map((id) => store.head(id)));
  };

  const entries = async (login: DriveLogin): Promise<UploadEntry[]> => {
    const byName = new Map<string, UploadEntry>();
    for (const id of await store.list(`${storedNs(login)}/`)) {
      const info = await store.head(id);
      const name = String(info.meta.name);
      byName.set(name, { name, size: Number(info.meta.size), state: 'stored', modifiedAt: new Date(info.createdAt) });
    }
    for (const id of await store.list(`${base(login)}/partial/`)) {
      const info = await store.head(id);
      const name = String(info.meta.name);
      const prior = byName.get(name);
      const size = (prior?.state === 'partial' ? prior.size : 0) + info.size;
      byName.set(name, { name, size, state: 'partial', modifiedAt: new Date(info.createdAt) });
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  };

  return {
    list: entries,
    async stat(login, name) {
      return (await entries(login)).find((e) => e.name === name);
    },
    async open(login, name, channel, mode) {
      let parts = await segments(login, name);
      if (mode === 'new') {
        for (const part of parts) await store.delete(part.id);
        parts = [];
      }
      const offset = parts.reduce((sum, p) => sum + p.size, 0);
      return new SegmentedUpload(store, logger, login, channel, name, partialNs(login, name), storedNs(login), offset);
    },
  };
}

/** Object names inside a namespace are [A-Za-z0-9._-]: a customer's name is hashed into one. */
function nameKey(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 32);
}

class SegmentedUpload implements OpenUpload {
  private segment?: { body: PassThrough; put: Promise<unknown> };
  private written: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly logger: Logger,
    private readonly login: DriveLogin,
    private readonly channel: DeviceChannel,
    readonly name: string,
    private readonly partialNs: string,
    private readonly storedNs: string,
    readonly start: number,
  ) {
    this.written = start;
  }

  get offset(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    const segment = (this.segment ??= this.startSegment());
    this.written += chunk.length;
    if (!segment.body.write(chunk)) await Promise.race([once(segment.body, 'drain'), segment.put]);
  }

  async suspend(): Promise<void> {
    await this.endSegment();
  }

  async finish(asName = this.name): Promise<FinishedUpload> {
    await this.endSegment();
    const ids = await this.store.list(`${this.partialNs}/`);
    const store = this.store;
    async function* content() {
      for (const id of ids) yield* await store.get(id);
    }
    const fileId = newId();
    const meta = { kind: 'file', id: fileId, originalName: asName, storedName: asName, channel: this.channel, tokenId: this.login.token.id, tokenLabel: this.login.token.label, clientAddress: this.login.clientAddress, receivedAt: new Date().toISOString() };
    const put = await store.put(caseFilesNamespace(this.login.caseNumber), Readable.from(content()), meta, { name: fileId });
    await store.put(this.storedNs, Readable.from([]), { name: asName, size: put.size, sha256: put.sha256, fileId }, { name: nameKey(asName) });
    for (const id of ids) await store.delete(id).catch((err: unknown) => this.logger.warn({ err, objectId: id }, 'partial segment not removed'));
    return { storedName: asName, size: put.size, sha256: put.sha256, verdict: 'unverified', reason: 'pending', kept: true };
  }

  private startSegment(): { body: PassThrough; put: Promise<unknown> } {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const meta = { kind: 'drive-partial', name: this.name, offset: this.written };
    const put = this.store.put(this.partialNs, body, meta, { name: `o${String(this.written).padStart(16, '0')}` });
    put.catch(() => undefined);
    return { body, put };
  }

  private async endSegment(): Promise<void> {
    const segment = this.segment;
    this.segment = undefined;
    if (!segment) return;
    segment.body.end();
    await segment.put;
  }
}
