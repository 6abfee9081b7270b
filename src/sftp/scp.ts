import type { ServerChannel } from 'ssh2';
import { checkName, resolveDrivePath } from '../drive/names.js';
import type { DriveLogin, OpenUpload, UploadSink } from '../drive/ports.js';
import { ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseRecord } from './scp-command.js';
import { StreamReader } from './stream-reader.js';

const MAX_RECORD = 4096 + 64;
const MAX_DEPTH = 32;
const OK = Buffer.from([0]);

export interface ScpContext {
  login: DriveLogin;
  sink: UploadSink;
  logger: Logger;
}

/**
 * The sink side of legacy SCP (`scp -t`, what `scp -O` and network devices run): C records
 * are files, D/E enter and leave directories (`-r`; files keep their own names, the case has no
 * directories), T records (times, `-p`) are acknowledged and ignored. Each record is answered
 * with `\0`, or `\1message` (the client prints it and goes on with the next file) or
 * `\2message` (fatal). Returns the exit status.
 */
export async function runScpSink(channel: ServerChannel, req: { target: string; recursive: boolean; targetIsDir: boolean }, ctx: ScpContext): Promise<number> {
  const target = resolveDrivePath(req.target);
  if (target.kind === 'refused' || (req.targetIsDir && target.kind === 'file')) {
    channel.write(`\x02scp: ${target.kind === 'refused' ? target.why : 'The only directory here is / (the case).'}\n`);
    return 1;
  }
  const fixedName = target.kind === 'file' ? target.name : undefined;
  const reader = new StreamReader(channel);
  const warn = (why: string) => channel.write(`\x01scp: ${why}\n`);
  let errors = 0;
  let depth = 0;
  channel.write(OK);
  for (;;) {
    const line = await reader.line(MAX_RECORD);
    if (line === undefined) break;
    if (line.startsWith('\x01') || line.startsWith('\x02')) {
      // the source could not read one of its files; it says so and goes on (\1) or stops (\2)
      errors++;
      if (line.startsWith('\x02')) break;
      continue;
    }
    const rec = parseRecord(line);
    if (rec.kind === 'bad') {
      channel.write(`\x02scp: ${rec.why}\n`);
      return 1;
    }
    if (rec.kind === 'dir' && (!req.recursive || depth >= MAX_DEPTH)) {
      channel.write(`\x02scp: ${req.recursive ? 'directories nested too deep' : 'a directory needs scp -r'}\n`);
      return 1;
    }
    if (rec.kind === 'dir') depth++;
    if (rec.kind === 'end') depth--;
    if (rec.kind !== 'file') {
      channel.write(OK);
      continue;
    }
    const name = checkName(depth === 0 && fixedName ? fixedName : rec.name);
    if (name.kind !== 'file') {
      errors++;
      warn(name.kind === 'refused' ? name.why : 'a file name is needed');
      continue;
    }
    const problem = await receiveFile(channel, reader, name.name, rec.size, ctx);
    if (problem) {
      errors++;
      warn(problem);
    }
  }
  return errors > 0 ? 1 : 0;
}

/** One C record's bytes into an upload; the `\0` after them is the source's "that was all". */
async function receiveFile(channel: ServerChannel, reader: StreamReader, name: string, size: number, ctx: ScpContext): Promise<string | undefined> {
  const upload: OpenUpload | undefined = await ctx.sink.open(ctx.login, name, 'scp', 'new').catch((err: unknown) => {
    if (isCasedropError(err, ErrorCode.UploadLocked)) return undefined;
    throw err;
  });
  // not acknowledged: the source skips this file's bytes and goes on with the next
  if (!upload) return `${name}: this file is being uploaded on another connection`;
  channel.write(OK);
  let refused: string | undefined;
  try {
    for await (const piece of reader.bytes(size)) {
      // past a cap the rest of the file is read and dropped, so the protocol stays in step
      if (refused) continue;
      await upload.write(piece).catch((err: unknown) => {
        if (!isCasedropError(err, ErrorCode.UploadTooBig)) throw err;
        refused = `${name}: refused: ${err.message}`;
      });
    }
  } catch (err) {
    await upload.suspend().catch(() => undefined);
    throw err;
  }
  if (refused) {
    await reader.byte();
    await upload.suspend();
    return refused;
  }
  const end = await reader.byte();
  if (end !== 0) {
    await upload.suspend();
    return `${name}: the sender reported an error while sending it; nothing was stored`;
  }
  const done = await upload.finish();
  ctx.logger.info({ storedName: done.storedName, size: done.size, verdict: done.verdict, reason: done.reason, kept: done.kept }, 'upload finished');
  if (!done.kept) return `${name}: not kept: this channel takes only encrypted archives (${done.reason}). ${done.advice}`;
  channel.stderr.write(`casedrop: stored ${done.storedName}, ${done.size} bytes, sha256 ${done.sha256}\n`);
  channel.write(OK);
  return undefined;
}
