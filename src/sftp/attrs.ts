import type { Attributes, FileEntry } from 'ssh2';
import type { UploadEntry } from '../drive/ports.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** `/` looks writable and not readable by others: what it is. */
export function rootAttrs(now = new Date()): Attributes {
  const t = Math.floor(now.getTime() / 1000);
  return { mode: S_IFDIR | 0o730, uid: 0, gid: 0, size: 0, atime: t, mtime: t };
}

export function fileAttrs(size: number, modifiedAt: Date): Attributes {
  const t = Math.floor(modifiedAt.getTime() / 1000);
  return { mode: S_IFREG | 0o200, uid: 0, gid: 0, size, atime: t, mtime: t };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `ls -l` shows the long name as sent: partial uploads say so. */
export function listEntry(entry: UploadEntry): FileEntry {
  const d = entry.modifiedAt;
  const when = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  const state = entry.state === 'partial' ? 'partial' : 'stored ';
  return {
    filename: entry.name,
    longname: `--w------- 1 ${state} upload ${String(entry.size).padStart(12)} ${when} ${entry.name}`,
    attrs: fileAttrs(entry.size, entry.modifiedAt),
  };
}
