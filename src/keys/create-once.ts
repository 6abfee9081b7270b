import { constants, linkSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { syncDir } from '../store/fs-backend.js';
import { unlessMissing, writeSyncedAndClose } from '../store/quick-fs.js';

/**
 * A key file's text, made by `make` (mode 0600) when the file does not exist yet. Two processes
 * starting at once must end up with the same key: publishFile links it into place, which fails like
 * O_EXCL, so the loser simply reads the winner's. `make` runs only when the file is missing.
 */
export async function readOrCreateFile(file: string, make: () => string): Promise<{ text: string; created: boolean }> {
  const existing = readIfExists(file);
  if (existing !== undefined) return { text: existing, created: false };
  const text = make();
  if (await publishFile(file, text)) return { text, created: true };
  return { text: readIfExists(file) ?? '', created: false };
}

/**
 * Makes `path` hold `bytes`, durable before it is visible and never half-written: the content goes
 * in full to a private temp file beside it (made by `openTemp`, mode 0600 by default), is fsynced,
 * then hard-linked into place — false, and nothing changed, when `path` exists already — or, with
 * `replace`, renamed over it; then the directory is synced: otherwise a power loss could drop the
 * name, and the next start would make a different key.
 */
export async function publishFile(
  path: string,
  bytes: string | Buffer,
  options: { replace?: boolean; openTemp?: (temp: string) => number } = {},
): Promise<boolean> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // file-system calls here are synchronous but for the fsyncs (src/store/quick-fs.ts)
  const fd = (options.openTemp ?? openPrivate)(temp);
  try {
    // a temp that failed to fill (ENOSPC) goes too: every retry would leave another key-sized file
    await writeSyncedAndClose(fd, bytes);
    if (options.replace) renameSync(temp, path);
    else linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    unlessMissing(() => unlinkSync(temp), undefined);
  }
  await syncDir(dirname(path));
  return true;
}

/** A new file only this process may read and write (its fd); fails if the name exists. */
export const openPrivate = (temp: string): number => openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);

function readIfExists(file: string): string | undefined {
  return unlessMissing(() => readFileSync(file, 'utf8'), undefined);
}
