import { checkUploadName } from '../intake/names.js';

const MAX_PATH_BYTES = 4096;

export type DrivePath = { kind: 'root' } | { kind: 'file'; name: string } | { kind: 'refused'; why: string };

/**
 * Pure: where a device's path points in the upload-only drive. There is one directory, `/`; a
 * path is `/name`, `name` or `./name`. Parent references and sub-directories are refused with a
 * sentence, never resolved; the name itself follows the one upload name rule (src/intake/names.ts).
 */
export function resolveDrivePath(raw: string): DrivePath {
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) return { kind: 'refused', why: 'The path is too long.' };
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.' && p !== '~');
  if (parts.length === 0) return { kind: 'root' };
  if (parts.includes('..')) return { kind: 'refused', why: 'There are no parent directories here: upload into / (the case).' };
  if (parts.length > 1) return { kind: 'refused', why: 'There are no sub-directories here: upload into / (the case).' };
  return checkName(parts[0]!);
}

export function checkName(raw: string): DrivePath {
  const checked = checkUploadName(raw);
  return checked.ok ? { kind: 'file', name: checked.name } : { kind: 'refused', why: checked.why };
}
