import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';

/**
 * A small tmpfs as a data dir, so "disk full" is real ENOSPC from the kernel rather than a mocked
 * error. Mounting needs root; callers skip (saying why) when it fails.
 */
export function mountTmpfs(dir: string, mib: number): { ok: true } | { ok: false; why: string } {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { ok: true };
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    return { ok: false, why: stderr || (err as Error).message };
  }
}

/** Unmounts; lazily if something (a process we stopped a moment ago) still holds it. */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  }
}

/**
 * Writes `path` until the file system says ENOSPC, then gives `leaveBytes` back (rounded by the
 * kernel to pages). Returns the size of the file.
 */
export function fillUp(path: string, leaveBytes = 0): number {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 0x5a);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  size = Math.max(0, size - leaveBytes);
  ftruncateSync(fd, size);
  closeSync(fd);
  return size;
}

/** A file of exactly `bytes` (to be deleted later to give space back). */
export function writeFiller(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const block = Buffer.alloc(64 * 1024, 0x5a);
    for (let left = bytes; left > 0;) left -= writeSync(fd, block, 0, Math.min(block.length, left));
  } finally {
    closeSync(fd);
  }
}
