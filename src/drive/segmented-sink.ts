import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { TokenStore } from '../cases/tokens.js';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';
import { newId } from '../ids.js';
import { admitParts, type StreamDeps } from '../intake/admit.js';
import type { Logger } from '../log.js';
import { uploadBytes, uploads } from '../metrics.js';
import { redisKey } from '../redis-keys.js';
import type { PutResult } from '../store/types.js';
import type { PartialUpload, Partials } from '../upload/partials.js';
import { appendSegment, dropStaging, segments, stagedOffset } from '../upload/staging.js';
import type { EventSink } from '../upload/events.js';
import { receiptOf, type Receipt } from '../upload/put.js';
import type { CaseUsage } from '../upload/usage.js';
import { uploadBuffers } from './buffer-pool.js';
import { ChunkQueue } from './chunk-queue.js';
import type { DeviceChannel, DriveLogin, FinishedUpload, OpenUpload, UploadEntry, UploadSink } from './ports.js';

export interface DeviceSinkDeps {
  config: Pick<Config, 'uploadMaxFileBytes' | 'uploadMaxCaseBytes' | 'uploadPartialTtlSeconds' | 'redisPrefix'>;
  redis: Redis;
  intake: StreamDeps;
  partials: Partials;
  tokens: TokenStore;
  usage: CaseUsage;
  logger: Logger;
  /** signs the receipt, as the HTTPS door's 201 carries it */
  sign?: (receipt: Receipt) => Promise<string>;
  /** webhook events (upload.completed with the signed receipt, upload.rejected) */
  events?: EventSink;
}

/**
 * The device doors' upload sink, on the same staging as a resumable HTTPS PUT (issue 16): an
 * unfinished upload is a partial-upload record (found by case, token and name; locked while a
 * connection appends; expired after the TTL) and a series of encrypted segments, one per
 * connection that sent bytes. A dropped connection commits what arrived as its segment, so a
 * resume (sftp `reput`, FTP `REST`) continues where the store says; finishing hands the segments
 * to the one intake path as the file's parts, with no copy. A small record per finished name lets
 * the token see (STAT, `ls`) what it uploaded, and nothing else of the case.
 */
export function deviceUploadSink(deps: DeviceSinkDeps): UploadSink {
  const { store } = deps.intake;
  const storedNs = (login: DriveLogin) => `drive/${login.caseNumber}/${login.token.id}/stored`;

  const entries = async (login: DriveLogin): Promise<UploadEntry[]> => {
    const byName = new Map<string, UploadEntry>();
    for (const id of await store.list(`${storedNs(login)}/`)) {
      const info = await store.head(id);
      const name = String(info.meta.name);
      byName.set(name, { name, size: Number(info.meta.size), state: 'stored', modifiedAt: new Date(info.createdAt) });
    }
    const open = await deps.redis.hgetall(redisKey.uploadByName(deps.config.redisPrefix, login.caseNumber, login.token.id));
    for (const [name, id] of Object.entries(open)) {
      byName.set(name, { name, size: await stagedOffset(store, id), state: 'partial', modifiedAt: new Date() });
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  };

  return {
    list: entries,
    async stat(login, name) {
      return (await entries(login)).find((e) => e.name === name);
    },
    async open(login, name, channel, mode) {
      let partial = await deps.partials.find(login.caseNumber, login.token.id, name);
      if (partial && mode === 'new') {
        const release = await deps.partials.lock(partial.id);
        if (!release) throw busy();
        await dropStaging(store, partial.id);
        await deps.partials.remove(partial);
        await release();
        partial = undefined;
      }
      if (!partial) {
        const now = new Date();
        partial = {
          id: newId(),
          caseNumber: login.caseNumber,
          tokenId: login.token.id,
          tokenLabel: login.token.label,
          name,
          length: 0,
          createdAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + deps.config.uploadPartialTtlSeconds * 1000).toISOString(),
          clientAddress: login.clientAddress,
        };
        await deps.partials.save(partial);
      }
      const release = await deps.partials.lock(partial.id);
      if (!release) throw busy();
      try {
        const offset = await stagedOffset(store, partial.id);
        const caseLeft = deps.config.uploadMaxCaseBytes - (await deps.usage.bytes(login.caseNumber));
        const allowance = Math.max(0, Math.min(deps.config.uploadMaxFileBytes, caseLeft, login.quotaBytes ?? Infinity));
        return new DeviceUpload(partial, channel, offset, allowance, release, deps, storedNs(login));
      } catch (err) {
        await release();
        throw err;
      }
    },
  };
}

const busy = () => new CasedropError(ErrorCode.UploadLocked, 'this file is being uploaded on another connection');

/** Bytes a connection may have queued for the store's writer before its writes wait. */
const QUEUED_BYTES = 1 << 20;

class DeviceUpload implements OpenUpload {
  private segment?: { body: ChunkQueue; put: Promise<PutResult>; start: number };
  private written: number;
  /** size and SHA-256 when one segment from offset 0 holds the whole file: no second read needed */
  private whole?: PutResult;
  private released = false;

  constructor(
    private readonly partial: PartialUpload,
    private readonly channel: DeviceChannel,
    start: number,
    private readonly allowance: number,
    private readonly release: () => Promise<void>,
    private readonly deps: DeviceSinkDeps,
    private readonly storedNs: string,
  ) {
    this.written = start;
  }

  get name(): string {
    return this.partial.name;
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
    const full = segment.body.push(chunk);
    if (full) await Promise.race([full, segment.put]);
  }

  async suspend(): Promise<void> {
    try {
      await this.endSegment();
    } finally {
      await this.unlock();
    }
  }

  async finish(asName = this.partial.name): Promise<FinishedUpload> {
    try {
      await this.endSegment();
      return await this.admit(asName);
    } finally {
      await this.unlock();
    }
  }

  private async admit(asName: string): Promise<FinishedUpload> {
    const { deps, partial } = this;
    const { store } = deps.intake;
    const parts = await segments(store, partial.id);
    const arrival = {
      caseNumber: partial.caseNumber,
      channel: this.channel,
      fileId: partial.id,
      originalName: asName,
      receivedAt: partial.createdAt,
      token: { id: partial.tokenId, label: partial.tokenLabel },
      extra: { clientAddress: partial.clientAddress },
    };
    const known = parts.length === 1 && this.whole ? this.whole : parts.length === 0 ? { size: 0, sha256: createHash('sha256').digest('hex') } : undefined;
    const file = await admitParts(arrival, parts, deps.intake, known);
    await deps.partials.remove(partial);
    if (!file.kept) {
      await dropStaging(store, partial.id);
      uploads.inc({ channel: this.channel, result: 'not-encrypted' });
    } else {
      await Promise.all([deps.tokens.recordUse(partial.caseNumber, partial.tokenId, file.size), deps.usage.add(partial.caseNumber, file.size)]);
      await store.put(
        this.storedNs,
        Readable.from([]),
        { name: asName, size: file.size, sha256: file.sha256, storedName: file.storedName },
        { name: nameKey(asName) },
      );
      uploads.inc({ channel: this.channel, result: 'stored' });
      uploadBytes.inc({ channel: this.channel }, file.size);
    }
    const time = new Date().toISOString();
    if (file.kept) {
      const receipt = receiptOf(file, time);
      const signature = deps.sign ? await deps.sign(receipt) : undefined;
      await deps.events?.({ event: 'upload.completed', case: partial.caseNumber, receipt: { ...receipt, ...(signature ? { signature } : {}) }, time });
    } else {
      await deps.events?.({
        event: 'upload.rejected',
        case: partial.caseNumber,
        name: asName,
        channel: this.channel,
        tokenLabel: partial.tokenLabel,
        reason: file.reason,
        message: file.advice,
        time,
      });
    }
    deps.logger.info(
      {
        event: file.kept ? 'upload_stored' : 'upload_refused',
        caseNumber: partial.caseNumber,
        fileId: partial.id,
        tokenId: partial.tokenId,
        channel: this.channel,
        size: file.size,
        parts: parts.length,
        verdict: file.verdict,
        reason: file.reason,
      },
      file.kept ? 'upload stored' : 'upload not kept',
    );
    return {
      storedName: file.storedName,
      size: file.size,
      sha256: file.sha256,
      verdict: file.verdict,
      reason: file.reason,
      kept: file.kept,
      advice: file.advice,
    };
  }

  private startSegment(): { body: ChunkQueue; put: Promise<PutResult>; start: number } {
    // the store's writer copies each chunk before it asks for the next: pooled buffers go back then
    const body = new ChunkQueue(QUEUED_BYTES, (chunk) => uploadBuffers.give(chunk));
    const put = appendSegment(this.deps.intake.store, this.partial.id, this.written, body, { caseNumber: this.partial.caseNumber });
    put.catch(() => undefined);
    return { body, put, start: this.written };
  }

  private async endSegment(): Promise<void> {
    const segment = this.segment;
    this.segment = undefined;
    if (!segment) return;
    segment.body.end();
    const put = await segment.put;
    if (segment.start === 0) this.whole = put;
  }

  private async unlock(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.release();
  }
}

/** Object names are [A-Za-z0-9._-]: a customer's name is hashed into one. */
function nameKey(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 32);
}
