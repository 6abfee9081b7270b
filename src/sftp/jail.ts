import ssh2, { type SFTPWrapper } from 'ssh2';
import type { DeviceChannel, DriveLogin, FinishedUpload, OpenUpload, UploadSink } from '../drive/ports.js';
import { resolveDrivePath, type DrivePath } from '../drive/names.js';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import { fileAttrs, listEntry, rootAttrs } from './attrs.js';
import { UploadHandle } from './upload-handle.js';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;

export const REFUSE = {
  read: 'This is an upload-only drive: files cannot be read or downloaded here.',
  remove: 'This is an upload-only drive: nothing can be deleted here.',
  mkdir: 'This is an upload-only drive: there are no directories; upload files into / (the case).',
  link: 'This is an upload-only drive: links cannot be made here.',
  rename: "Only a file just uploaded under a temporary name (such as WinSCP's .filepart) can be renamed.",
  busy: 'This file is being uploaded on another connection.',
};

/** WinSCP uploads `name.filepart`, closes it and renames it: such a file is finalised by the rename. */
const TEMPORARY = /\.filepart$/;

type Handle = { kind: 'dir'; listed: boolean } | { kind: 'file'; file: UploadHandle };

/**
 * The upload-only jail behind one SFTP channel, answered by casedrop itself (there is no file
 * system under it): `/` is the case, seen through this login's own uploads only. Opening a file
 * for writing creates or resumes an upload; CLOSE finalises it; everything that would read,
 * delete or structure files is refused with a sentence the client prints.
 */
export function serveJail(sftp: SFTPWrapper, ctx: { login: DriveLogin; sink: UploadSink; channel: DeviceChannel; logger: Logger }): void {
  const { login, sink, logger } = ctx;
  const handles = new Map<number, Handle>();
  const awaitingRename = new Map<string, OpenUpload>();
  let nextHandle = 1;
  const deny = (id: number, why: string) => sftp.status(id, STATUS_CODE.PERMISSION_DENIED, why);
  const fail = (id: number, why: string) => sftp.status(id, STATUS_CODE.FAILURE, why);
  const ok = (id: number, message?: string) => sftp.status(id, STATUS_CODE.OK, message);
  const handleOf = (raw: Buffer) => (raw.length === 4 ? handles.get(raw.readUInt32BE(0)) : undefined);
  const newHandle = (h: Handle) => {
    const n = nextHandle++;
    handles.set(n, h);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(n);
    return buf;
  };
  // a request whose answer failed (storage, Redis) gets a FAILURE, never silence
  const guard = (id: number, work: () => Promise<void>) => {
    work().catch((err: unknown) => {
      logger.error({ err }, 'sftp request failed');
      fail(id, 'temporary server error; try again later');
    });
  };
  const onPath = (id: number, raw: string, then: (p: Exclude<DrivePath, { kind: 'refused' }>) => Promise<void> | void) => {
    const p = resolveDrivePath(raw);
    if (p.kind === 'refused') return deny(id, p.why);
    guard(id, async () => then(p));
  };

  sftp.on('REALPATH', (id, raw) => {
    const p = resolveDrivePath(lexical(raw));
    if (p.kind === 'refused') return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, p.why);
    const path = p.kind === 'root' ? '/' : `/${p.name}`;
    sftp.name(id, [{ filename: path, longname: path, attrs: rootAttrs() }]);
  });

  const stat = (id: number, raw: string) =>
    onPath(id, raw, async (p) => {
      if (p.kind === 'root') return sftp.attrs(id, rootAttrs());
      const entry = await sink.stat(login, p.name);
      if (!entry) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, 'No upload of that name from this token.');
      sftp.attrs(id, fileAttrs(entry.size, entry.modifiedAt));
    });
  sftp.on('STAT', stat).on('LSTAT', stat);

  sftp.on('OPENDIR', (id, raw) =>
    onPath(id, raw, (p) => {
      if (p.kind !== 'root') return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, 'The only directory here is / (the case).');
      sftp.handle(id, newHandle({ kind: 'dir', listed: false }));
    }),
  );
  sftp.on('READDIR', (id, raw) => {
    const h = handleOf(raw);
    if (h?.kind !== 'dir') return fail(id, 'not an open directory');
    if (h.listed) return sftp.status(id, STATUS_CODE.EOF);
    h.listed = true;
    guard(id, async () => sftp.name(id, (await sink.list(login)).map(listEntry)));
  });

  sftp.on('OPEN', (id, raw, flags) =>
    onPath(id, raw, async (p) => {
      if (flags & OPEN_MODE.READ || !(flags & OPEN_MODE.WRITE)) return deny(id, REFUSE.read);
      if (p.kind === 'root') return fail(id, 'Open a file name inside / (the case), e.g. /logs.7z.');
      const mode = flags & OPEN_MODE.TRUNC ? 'new' : 'resume';
      const upload = await sink.open(login, p.name, ctx.channel, mode).catch((err: unknown) => {
        if (isCasedropError(err, ErrorCode.UploadLocked)) return undefined;
        throw err;
      });
      if (!upload) return fail(id, REFUSE.busy);
      logger.info({ name: p.name, mode, offset: upload.offset }, 'upload opened');
      sftp.handle(id, newHandle({ kind: 'file', file: new UploadHandle(upload) }));
    }),
  );

  sftp.on('WRITE', (id, raw, offset, data) => {
    const h = handleOf(raw);
    if (h?.kind !== 'file') return fail(id, 'not a file open for writing');
    h.file.write(offset, data, (why) => (why ? fail(id, why) : ok(id)));
  });
  sftp.on('READ', (id) => deny(id, REFUSE.read));
  sftp.on('FSTAT', (id, raw) => {
    const h = handleOf(raw);
    if (!h) return fail(id, 'not an open handle');
    sftp.attrs(id, h.kind === 'dir' ? rootAttrs() : fileAttrs(h.file.size, new Date()));
  });
  // clients set times and modes after an upload; there is nothing to set them on
  sftp.on('FSETSTAT', (id) => ok(id)).on('SETSTAT', (id, raw) => onPath(id, raw, () => ok(id)));

  sftp.on('CLOSE', (id, raw) => {
    const n = raw.length === 4 ? raw.readUInt32BE(0) : -1;
    const h = handles.get(n);
    handles.delete(n);
    if (!h) return fail(id, 'not an open handle');
    if (h.kind === 'dir') return ok(id);
    guard(id, () => closeFile(id, h.file));
  });

  async function closeFile(id: number, file: UploadHandle): Promise<void> {
    const { upload } = file;
    const broken = await file.settle();
    if (broken) {
      await upload.suspend();
      return fail(id, broken);
    }
    if (TEMPORARY.test(upload.name)) {
      // finished by the rename; until then it stays a resumable partial upload
      await upload.suspend();
      awaitingRename.set(upload.name, upload);
      return ok(id);
    }
    answerFinished(id, await upload.finish());
  }

  function answerFinished(id: number, done: FinishedUpload): void {
    logger.info({ storedName: done.storedName, size: done.size, verdict: done.verdict, reason: done.reason, kept: done.kept }, 'upload finished');
    if (!done.kept) return deny(id, `Not kept: this channel takes only encrypted archives (${done.reason}). ${done.advice}`);
    ok(id, `stored as ${done.storedName}, ${done.size} bytes, sha256 ${done.sha256}`);
  }

  sftp.on('RENAME', (id, from, to) => {
    const src = resolveDrivePath(from);
    const dst = resolveDrivePath(to);
    if (dst.kind === 'refused') return deny(id, dst.why);
    const upload = src.kind === 'file' ? awaitingRename.get(src.name) : undefined;
    if (!upload || dst.kind !== 'file') return deny(id, REFUSE.rename);
    awaitingRename.delete(upload.name);
    guard(id, async () => {
      answerFinished(id, await upload.finish(dst.name));
    });
  });

  sftp.on('REMOVE', (id) => deny(id, REFUSE.remove));
  sftp.on('RMDIR', (id) => deny(id, REFUSE.remove));
  sftp.on('MKDIR', (id) => deny(id, REFUSE.mkdir));
  sftp.on('SYMLINK', (id) => deny(id, REFUSE.link));
  sftp.on('READLINK', (id) => deny(id, REFUSE.link));

  // the client is done (EOF on the channel): close our side too, or OpenSSH waits for ever; with
  // exit status 0, which OpenSSH's scp (SFTP underneath) checks, as OpenSSH's sftp-server's exit gives
  sftp.once('end', () => {
    const internals = sftp as unknown as { _protocol?: { exitStatus(id: number, status: number): void }; outgoing?: { id: number; state: string } };
    if (internals.outgoing?.state === 'open') internals._protocol?.exitStatus(internals.outgoing.id, 0);
    sftp.end();
  });
  // a dropped connection keeps what arrived, for a resume
  sftp.once('close', () => {
    for (const h of handles.values()) {
      if (h.kind !== 'file') continue;
      void h.file
        .settle()
        .then(() => h.file.upload.suspend())
        .then(() => logger.info({ name: h.file.upload.name, offset: h.file.upload.offset }, 'connection closed mid-upload; kept for resume'))
        .catch((err: unknown) => logger.error({ err }, 'partial upload not kept'));
    }
    handles.clear();
  });
}

/** REALPATH is lexical: `..` stops at `/`, as on any POSIX system. */
function lexical(raw: string): string {
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '..') out.pop();
    else if (part !== '' && part !== '.') out.push(part);
  }
  return `/${out.join('/')}`;
}
