import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { CasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import type { DeviceChannel, DriveLogin, FinishedUpload, OpenUpload, UploadEntry, UploadSink } from './ports.js';

export interface SegmentedSinkDeps {
  store: ObjectStore;
  logger: Logger;
  /** bytes one upload of this login may carry (file, case and token caps) */
  allowance(login: DriveLogin): Promise<number>;
  /** the whole file, in order, into the case through the one intake path */
  admit(login: DriveLogin, name: string, channel: DeviceChannel, content: AsyncIterable<Uint8Array>): Promise<FinishedUpload>;
}

/**
 * The device doors' upload sink: a partial upload is a run of encrypted segments, one per
 * connection that sent bytes, under `drive/<case>/<token id>/partial/<name key>/`. A dropped
 * connection commits the bytes that arrived as one more segment, so a resume (sftp `reput`,
 * FTP `REST`) continues from the sum of their sizes; finishing streams the segments in order
 * into the intake path and removes them. A small record per finished name lets the token see
 * (STAT, `ls`) what it uploaded, and nothing else of the case.
 */
export function segmentedUploadSink(deps: SegmentedSinkDeps): UploadSink {
  const { store } = deps;
  const base = (login: DriveLogin) => `drive/${login.caseNumber}/${login.token.id}`;
  const partialNs = (login: DriveLogin, name: string) => `${base(login)}/partial/${nameKey(name)}`;
  const storedNs = (login: DriveLogin) => `${base(login)}/stored`;
  const heads = async (prefix: string) => Promise.all((await store.list(prefix)).map((id) => store.head(id)));

  const entries = async (login: DriveLogin): Promise<UploadEntry[]> => {
    const byName = new Map<string, UploadEntry>();
    for (const info of await heads(`${storedNs(login)}/`)) {
      const name = String(info.meta.name);
      byName.set(name, { name, size: Number(info.meta.size), state: 'stored', modifiedAt: new Date(info.createdAt) });
    }
    for (const info of await heads(`${base(login)}/partial/`)) {
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
      const ns = partialNs(login, name);
      let parts = await heads(`${ns}/`);
      if (mode === 'new') {
        for (const part of parts) await store.delete(part.id);
        parts = [];
      }
      const offset = parts.reduce((sum, p) => sum + p.size, 0);
      const allowance = await deps.allowance(login);
      const finalise = async (asName: string) => {
        const ids = await store.list(`${ns}/`);
        const done = await deps.admit(login, asName, channel, concat(store, ids));
        await store.put(storedNs(login), Readable.from([]), { name: asName, size: done.size, sha256: done.sha256, storedName: done.storedName }, { name: nameKey(asName) });
        for (const id of ids) await store.delete(id).catch((err: unknown) => deps.logger.warn({ err, objectId: id }, 'partial segment not removed'));
        return done;
      };
      return new SegmentedUpload(store, name, ns, offset, allowance, finalise);
    },
  };
}

async function* concat(store: ObjectStore, ids: string[]): AsyncGenerator<Uint8Array> {
  for (const id of ids) yield* await store.get(id);
}

/** Object names are [A-Za-z0-9._-]: a customer's name is hashed into one. */
function nameKey(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 32);
}

class SegmentedUpload implements OpenUpload {
  private segment?: { body: PassThrough; put: Promise<unknown> };
  private written: number;

  constructor(
    private readonly store: ObjectStore,
    readonly name: string,
    private readonly ns: string,
    start: number,
    private readonly allowance: number,
    private readonly finalise: (asName: string) => Promise<FinishedUpload>,
  ) {
    this.written = start;
  }

  get offset(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.written + chunk.length > this.allowance) {
      throw new CasedropError(ErrorCode.UploadTooBig, `the file would exceed the ${this.allowance} bytes this upload may store (file, case or token limit)`);
    }
    const segment = (this.segment ??= this.startSegment());
    this.written += chunk.length;
    if (!segment.body.write(chunk)) await Promise.race([once(segment.body, 'drain'), segment.put]);
  }

  suspend(): Promise<void> {
    return this.endSegment();
  }

  async finish(asName = this.name): Promise<FinishedUpload> {
    await this.endSegment();
    return this.finalise(asName);
  }

  private startSegment(): { body: PassThrough; put: Promise<unknown> } {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const meta = { kind: 'drive-partial', name: this.name, offset: this.written };
    const put = this.store.put(this.ns, body, meta, { name: `o${String(this.written).padStart(16, '0')}` });
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
