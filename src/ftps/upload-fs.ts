import { Writable } from 'node:stream';
import { resolveDrivePath } from '../drive/names.js';
import type { DriveLogin, OpenUpload, UploadEntry, UploadSink } from '../drive/ports.js';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';

export const REFUSED = 'This is an upload-only drive: files cannot be read, deleted, renamed or organised in directories here.';

/** What ftp-srv's LIST, SIZE and MDTM read from a file entry. */
function stat(entry: UploadEntry) {
  return { name: entry.name, size: entry.size, mtime: entry.modifiedAt, mode: 0o100200, uid: 0, gid: 0, isDirectory: () => false };
}

const root = { name: '/', size: 0, mtime: new Date(), mode: 0o040730, uid: 0, gid: 0, isDirectory: () => true };

function fileName(raw: string): string {
  const p = resolveDrivePath(raw);
  if (p.kind === 'refused') throw Object.assign(new Error(p.why), { code: 553 });
  if (p.kind === 'root') throw new Error('Name a file inside / (the case).');
  return p.name;
}

/**
 * The FTPS door's file system for ftp-srv: `/` is the case seen through this token's own
 * uploads; STOR creates an upload, APPE and REST continue this token's unfinished one from where
 * the store has it; everything else is refused with a sentence.
 */
export class UploadFileSystem {
  constructor(
    private readonly login: DriveLogin,
    private readonly sink: UploadSink,
    private readonly logger: Logger,
  ) {}

  currentDirectory(): string {
    return '/';
  }

  async get(raw: string) {
    const p = resolveDrivePath(raw);
    if (p.kind === 'root') return root;
    if (p.kind === 'refused') throw new Error(p.why);
    const entry = await this.sink.stat(this.login, p.name);
    if (!entry) throw new Error('No upload of that name from this token.');
    return stat(entry);
  }

  async list(raw = '/') {
    if (resolveDrivePath(raw).kind !== 'root') throw new Error('The only directory here is / (the case).');
    return (await this.sink.list(this.login)).map(stat);
  }

  chdir(raw = '/'): string {
    if (resolveDrivePath(raw).kind !== 'root') throw new Error('The only directory here is / (the case).');
    return '/';
  }

  async write(raw: string, { append = false, start = 0 }: { append?: boolean; start?: number } = {}) {
    const name = fileName(raw);
    const resume = append || start > 0;
    const upload = await this.sink.open(this.login, name, 'ftps', resume ? 'resume' : 'new').catch((err: unknown) => {
      throw isCasedropError(err, ErrorCode.UploadLocked) ? new Error('This file is being uploaded on another connection.') : err;
    });
    if (start > 0 && start !== upload.offset) {
      await upload.suspend();
      throw new Error(`This upload continues at byte ${upload.offset}, not ${start}: REST ${upload.offset}, or APPE.`);
    }
    this.logger.info({ name, resume, offset: upload.offset }, 'upload opened');
    return { stream: uploadStream(upload, this.logger), clientPath: `/${name}` };
  }

  read(): never {
    throw new Error(REFUSED);
  }
  delete(): never {
    throw new Error(REFUSED);
  }
  mkdir(): never {
    throw new Error(REFUSED);
  }
  rename(): never {
    throw new Error(REFUSED);
  }
  chmod(): never {
    throw new Error(REFUSED);
  }
  getUniqueName(): never {
    throw new Error(REFUSED);
  }
}

/**
 * The data connection's bytes into the upload. The end of the stream stores the file, and only
 * then does ftp-srv answer 226; a data connection that breaks keeps what arrived for a resume.
 */
function uploadStream(upload: OpenUpload, logger: Logger): Writable {
  let done = false;
  const stream = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      upload.write(chunk).then(() => cb(), cb);
    },
    final(cb) {
      done = true;
      upload.finish().then((file) => {
        logger.info({ storedName: file.storedName, size: file.size, verdict: file.verdict, kept: file.kept }, 'upload finished');
        cb(file.kept ? undefined : new Error(`Not kept: this channel takes only encrypted archives (${file.reason}). ${file.advice}`));
      }, cb);
    },
    destroy(err, cb) {
      if (done) return cb(err);
      done = true;
      upload.suspend().then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
  // ftp-srv signals the end of the data with a bare 'close' event when the stream has 'close'
  // listeners (a pipe always adds one) instead of end(): turn it into the end that stores the file
  const emit = stream.emit.bind(stream);
  stream.emit = ((event: string, ...args: unknown[]) => {
    if (event === 'close' && !done && !stream.writableEnded) {
      stream.end();
      return true;
    }
    return emit(event, ...args);
  }) as typeof stream.emit;
  return stream;
}
