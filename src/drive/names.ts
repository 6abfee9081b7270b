import { MAX_STORED_NAME_BYTES, sanitizeFilename } from '../pipeline/filenames.js';

const MAX_PATH_BYTES = 4096;

export const NAME_RULE =
  `a file name is one path segment of at most ${MAX_STORED_NAME_BYTES} bytes of UTF-8, ` +
  'without control characters, bidi overrides, leading dots or any of \\ : * ? " < > |';

export type DrivePath = { kind: 'root' } | { kind: 'file'; name: string } | { kind: 'refused'; why: string };

/**
 * Pure: where a device's path points in the upload-only drive. There is one directory, `/`; a
 * path is `/name`, `name` or `./name`. Parent references and sub-directories are refused with a
 * sentence, never resolved, and a name the email sanitiser would have to change is refused with
 * the rule (the device's script would otherwise not find its file under the name it used).
 */
export function resolveDrivePath(raw: string): DrivePath {
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) return { kind: 'refused', why: `The path is too long: ${NAME_RULE}.` };
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.' && p !== '~');
  if (parts.length === 0) return { kind: 'root' };
  if (parts.includes('..')) return { kind: 'refused', why: 'There are no parent directories here: upload into / (the case).' };
  if (parts.length > 1) return { kind: 'refused', why: 'There are no sub-directories here: upload into / (the case).' };
  return checkName(parts[0]!);
}

export function checkName(raw: string): DrivePath {
  const name = raw.normalize('NFC');
  if (sanitizeFilename(name, '') !== name) return { kind: 'refused', why: `The name "${printable(name)}" is not allowed: ${NAME_RULE}.` };
  return { kind: 'file', name };
}

/** Echoing a refused name back must not echo its control characters. */
export function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return Array.from(name.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?')).slice(0, 80).join('');
}
