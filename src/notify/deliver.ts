import { openSync, renameSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from '../log.js';
import { removeStaleTemps, syncDir } from '../store/fs-backend.js';
import { newTempName, tempsInFlight } from '../store/fs-temp.js';
import { writeSyncedAndClose } from '../store/quick-fs.js';

/**
 * Where a built mail goes: the configured relay over SMTP, or (no relay, the laptop default) an
 * `.eml` file in `<data dir>/outbox`. Both take the finished bytes and the envelope.
 */
export interface Envelope {
  /** false: the null sender, `MAIL FROM:<>` */
  from: string | false;
  to: string[];
}

export interface Deliverer {
  deliver(name: string, raw: Buffer, envelope: Envelope): Promise<string>;
  close(): void;
}

/**
 * Connections to the relay kept open and reused by one process. A connection per mail cost a TCP
 * handshake, a greeting, EHLO (and TLS with smtps://) for every receipt, notice and DSN; a burst of
 * 5,000 messages makes 10,000 mails. Four carry the outbound worker's concurrency; a connection
 * is renewed after 100 mails, as Postfix's smtp client does by default (smtp_connection_reuse_count_limit).
 */
const RELAY_CONNECTIONS = 4;
const MAILS_PER_CONNECTION = 100;

/**
 * nodemailer's pooled SMTP transport to the relay. A 5xx will never pass (UnrecoverableError: the job
 * stays in the failed set); a 4xx, a timeout or a refused connection is thrown as is and retried with backoff.
 */
export function smtpDeliverer(relayUrl: string): Deliverer {
  const transport: Transporter = createTransport({ url: relayUrl, pool: true, maxConnections: RELAY_CONNECTIONS, maxMessages: MAILS_PER_CONNECTION });
  return {
    async deliver(_name, raw, envelope) {
      try {
        const info = (await transport.sendMail({ raw, envelope: { from: envelope.from === false ? '' : envelope.from, to: envelope.to } })) as {
          response?: string;
        };
        return info.response ?? 'sent';
      } catch (err) {
        if (isPermanent(err)) throw new UnrecoverableError(`relay refused the mail: ${(err as Error).message}`);
        throw err;
      }
    },
    close: () => transport.close(),
  };
}

/** Pure: an SMTP reply code 5xx is permanent; anything else (4xx, network, timeout) is worth a retry. */
export function isPermanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | undefined)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/**
 * Writes `<dir>/<name>.eml` atomically: a temp file in `tmpDir` (a sibling on the same file system,
 * so the outbox itself only ever holds finished mails) fsynced, renamed into place, the directory
 * fsynced. A reader, or the benchmark counting receipts, never sees half a mail; a retry rewrites
 * the same name. `Return-Path` records the envelope sender, as a delivering MTA would.
 */
export function outboxDeliverer(dir: string, tmpDir: string, logger: Logger): Deliverer {
  // made once per deliverer (two mkdir calls per mail were 1.7% of the worker's profile); again if removed since
  let made: Promise<unknown> | undefined;
  const makeDirs = () =>
    (made ??= Promise.all([mkdir(dir, { recursive: true }), mkdir(tmpDir, { recursive: true }).then(() => sweep(tmpDir, logger))]).catch((err: unknown) => {
      made = undefined;
      throw err;
    }));
  return {
    async deliver(name, raw, envelope) {
      const path = join(dir, `${safeFileName(name)}.eml`);
      const returnPath = Buffer.from(`Return-Path: <${envelope.from === false ? '' : envelope.from}>\r\n`);
      await makeDirs();
      await writeAtomic(dir, tmpDir, path, Buffer.concat([returnPath, raw])).catch(async (err: NodeJS.ErrnoException) => {
        // an operator removed the outbox (or its temp dir) while we ran: make them again, once
        if (err.code !== 'ENOENT') throw err;
        made = undefined;
        await makeDirs();
        await writeAtomic(dir, tmpDir, path, Buffer.concat([returnPath, raw]));
      });
      logger.info({ path, to: envelope.to, bytes: raw.length }, 'mail written to the outbox (no relay configured)');
      return path;
    },
    close: () => undefined,
  };
}

export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '-');
}

async function writeAtomic(dir: string, tmpDir: string, path: string, data: Buffer): Promise<void> {
  const name = newTempName();
  const tmp = join(tmpDir, name);
  tempsInFlight.add(name);
  try {
    await writeAndRename(dir, tmp, path, data);
  } finally {
    tempsInFlight.delete(name);
  }
}

/** A mail a killed worker was writing stays in the temp dir: the first delivery of a process sweeps it. */
async function sweep(tmpDir: string, logger: Logger): Promise<void> {
  const removed = await removeStaleTemps(tmpDir);
  if (removed > 0) logger.info({ removed, event: 'outbox_temps_removed' }, 'removed unfinished outbox mails of crashed writers');
}

/** Synchronous file-system calls but for the fsyncs (src/store/quick-fs.ts). */
async function writeAndRename(dir: string, tmp: string, path: string, data: Buffer): Promise<void> {
  try {
    await writeSyncedAndClose(openSync(tmp, 'w', 0o600), data);
    renameSync(tmp, path);
  } catch (err) {
    // a partial temp file (ENOSPC above all) must not stay behind: every retry would leave another
    rmSync(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}
