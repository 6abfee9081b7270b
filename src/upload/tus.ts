import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server as TusServer } from '@tus/server';
import { DataStore, ERRORS, Upload, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import { newId } from '../ids.js';
import { checkUploadName } from '../intake/names.js';
import type { Logger } from '../log.js';
import { allowance, logIn, type GateDeps } from './gate.js';
import type { PartialUpload, Partials } from './partials.js';
import { finishUpload, type PutDeps } from './put.js';
import { sweepExpiredUploads } from './resume.js';
import { appendSegment, dropStaging, segments, stagedOffset } from './staging.js';

/**
 * tus 1.0 at /files/ (creation, creation-with-upload, termination, expiration) through @tus/server,
 * over casedrop's own DataStore: the same encrypted segments, partial-upload records and finish
 * step as the plain-curl resume, so a tus upload and a `PUT /home/` end in the same case file and
 * receipt. @tus/file-store is not used: it writes plaintext.
 */
export const TUS_PATH = '/files';

interface Login {
  caseNumber: string;
  token: { id: string; label: string; maxBytes?: number; bytesUploaded: number };
  clientAddress: string;
}

class EncryptedTusStore extends DataStore {
  override extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
  /** who is creating an upload, from onUploadCreate to create() (the store only gets the Upload) */
  readonly creating = new Map<string, PartialUpload>();

  constructor(
    private readonly put: PutDeps,
    private readonly logger: Logger,
  ) {
    super();
  }

  override async create(upload: Upload): Promise<Upload> {
    const record = this.creating.get(upload.id);
    if (!record) throw ERRORS.FILE_NOT_FOUND;
    this.creating.delete(upload.id);
    await this.put.partials.save({ ...record, length: upload.size ?? 0 });
    return upload;
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const record = await this.record(id);
    const segment = await appendSegment(this.put.intake.store, id, offset, stream, { caseNumber: record.caseNumber });
    return offset + segment.size;
  }

  override async getUpload(id: string): Promise<Upload> {
    const record = await this.record(id);
    return new Upload({
      id,
      size: record.length,
      offset: await stagedOffset(this.put.intake.store, id),
      metadata: { filename: record.name },
      creation_date: record.createdAt,
    });
  }

  override async remove(id: string): Promise<void> {
    const record = await this.record(id);
    await dropStaging(this.put.intake.store, id);
    await this.put.partials.remove(record);
  }

  override getExpiration(): number {
    return this.put.partialTtlSeconds * 1000;
  }

  override deleteExpired(): Promise<number> {
    return sweepExpiredUploads(this.put, this.logger);
  }

  async record(id: string): Promise<PartialUpload> {
    const record = /^[A-Za-z0-9]{1,64}$/.test(id) ? await this.put.partials.get(id) : undefined;
    if (!record) throw ERRORS.FILE_NOT_FOUND;
    return record;
  }
}

/**
 * One request appends to an upload at a time, across instances (the partials' Redis lock). A new
 * request for a locked upload asks the holder in this process to let go (tus's "request release":
 * its client probably dropped) and waits; a holder on a crashed instance lapses with its lock's TTL.
 */
class RedisLocker implements Locker {
  readonly holders = new Map<string, RequestRelease>();
  constructor(readonly partials: Partials) {}
  newLock(id: string): Lock {
    let release: (() => Promise<void>) | undefined;
    return {
      lock: async (signal, cancelReq) => {
        for (;;) {
          release = await this.partials.lock(id);
          if (release) return void this.holders.set(id, cancelReq);
          await this.holders.get(id)?.();
          if (signal.aborted) throw ERRORS.ERR_LOCK_TIMEOUT;
          await sleep(100);
        }
      },
      unlock: async () => {
        this.holders.delete(id);
        await release?.();
      },
    };
  }
}

export interface TusDeps {
  gate: GateDeps;
  put: PutDeps;
  logger: Logger;
}

/** A route for the upload listener: handles /files and /files/<id>, else returns false. */
export function tusRoute(deps: TusDeps): (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => boolean {
  const store = new EncryptedTusStore(deps.put, deps.logger);
  const logins = new WeakMap<object, Login>();
  const tus = new TusServer({
    path: TUS_PATH,
    datastore: store,
    locker: new RedisLocker(deps.put.partials),
    relativeLocation: true,
    onIncomingRequest: async (req, uploadId) => {
      const clientAddress = nodeOf(req)?.socket.remoteAddress ?? '';
      const login = await logIn(req.headers.get('authorization') ?? undefined, clientAddress, 'tus', deps.gate);
      if (!login.ok) throw { status_code: login.refusal.status, body: `${login.refusal.message}\n` };
      logins.set(req, { caseNumber: login.caseNumber, token: login.token, clientAddress });
      if (req.method === 'POST' || req.method === 'OPTIONS') return;
      // upload-only: a token reaches only the uploads it started
      const record = await deps.put.partials.get(uploadId);
      if (!record || record.tokenId !== login.token.id || record.caseNumber !== login.caseNumber) throw ERRORS.FILE_NOT_FOUND;
    },
    onUploadCreate: async (req, upload) => {
      const login = logins.get(req);
      if (!login) throw ERRORS.FILE_NOT_FOUND;
      const named = checkUploadName(upload.metadata?.filename ?? '');
      if (!named.ok) throw { status_code: 400, body: `${named.why} (tus: set metadata "filename")\n` };
      if (upload.size === undefined) throw { status_code: 400, body: 'Upload-Length is required (deferred length is not supported).\n' };
      const allowed = await allowance(login.caseNumber, login.token as never, deps.gate);
      if (upload.size > allowed.allowance)
        throw { status_code: 413, body: `The upload is larger than the ${allowed.allowance} bytes allowed (${allowed.code}).\n` };
      const now = new Date();
      store.creating.set(upload.id, {
        id: upload.id,
        caseNumber: login.caseNumber,
        tokenId: login.token.id,
        tokenLabel: login.token.label,
        name: named.name,
        length: upload.size,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + deps.put.partialTtlSeconds * 1000).toISOString(),
        clientAddress: login.clientAddress,
      });
      return { metadata: { filename: named.name } };
    },
    onUploadFinish: async (_req, upload) => {
      const record = await store.record(upload.id);
      const answer = await finishUpload(
        record,
        await segments(deps.put.intake.store, upload.id),
        undefined,
        'tus',
        deps.put,
        deps.logger.child({ fileId: upload.id, caseNumber: record.caseNumber }),
      );
      // tus clients take any 2xx for the last PATCH; the receipt rides in its body
      return {
        status_code: answer.status === 201 ? 200 : answer.status,
        headers: { ...answer.headers, 'content-type': 'application/json' },
        body: JSON.stringify(answer.body),
      };
    },
    namingFunction: () => newId(),
  });
  return (req, res, expectsContinue) => {
    const path = (req.url ?? '').split('?', 1)[0]!;
    if (path !== TUS_PATH && !path.startsWith(`${TUS_PATH}/`)) return false;
    if (expectsContinue) res.writeContinue();
    void tus.handle(req, res).catch((err: unknown) => {
      deps.logger.error({ err: (err as Error).message }, 'tus request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
    return true;
  };
}

function nodeOf(req: unknown): IncomingMessage | undefined {
  const r = req as { runtime?: { node?: { req?: IncomingMessage } } };
  return r.runtime?.node?.req;
}
