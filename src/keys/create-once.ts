import { constants } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { syncDir } from '../store/fs-backend.js';

/**
 * A key file's text, made by `make` (mode 0600) when the file does not exist yet. Two processes
 * starting at once must end up with the same key: the content is written in full to a private temp
 * file, fsynced, then hard-linked into place. link() fails with EEXIST like O_EXCL, and the name
 * never points at a half-written file, so the loser simply reads the winner's. The directory is
 * synced after the link: otherwise a power loss could drop the name, and the next start would make
 * a different key. `make` runs only when the file is missing.
 */
export async function readOrCreateFile(file: string, make: () => string): Promise<{ text: string; created: boolean }> {
  const existing = await readIfExists(file);
  if (existing !== undefined) return { text: existing, created: false };
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const text = make();
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(temp, file);
    await syncDir(dirname(file));
    return { text, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { text: (await readIfExists(file)) ?? '', created: false };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
