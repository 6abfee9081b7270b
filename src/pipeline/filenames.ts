/**
 * Stored names: what the engineer downloads and what the CLI prints. The original (decoded,
 * Unicode) name is kept in the metadata for display; the stored one must be safe on any file
 * system and in a shell, so path separators and control characters go and the length is capped.
 */
export const MAX_STORED_NAME_BYTES = 200;

// Beyond this a name is cut before anything else reads it (the parser already cuts to CASEDROP_MAX_NAME_CHARS)
const MAX_INPUT_CHARS = 4 * MAX_STORED_NAME_BYTES;

// C0/C1 controls, DEL, path separators, and what a shell would act on: quotes, $ and backticks,
// redirections, pipes, globs, brace and history expansion, comments, home and the command separator
// and bidi controls, which disguise extensions ("gpj.exe")
// eslint-disable-next-line no-control-regex -- control characters are among what this removes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069/\\:*?"<>|$`'&;(){}[\]!#~%^=]/g;
// zero-width and soft-hyphen characters hide in names: dropped
const INVISIBLE = /[\u00ad\u180e\u200b-\u200d\u2060-\u2065\ufeff]/g;
// look-alikes of / and \ (division and fraction slash, full-width solidus, set minus, big solidus …)
const LOOKALIKE_SEPARATORS = /[\u2044\u2215\u2216\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c]/g;
// Windows device names, with or without an extension: a file named CON cannot be saved there
const DEVICE = /^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(?:\.|$)/i;

export function sanitizeFilename(original: string | undefined, fallback = 'attachment'): string {
  let name = (original ?? '').slice(0, MAX_INPUT_CHARS).normalize('NFC').replace(INVISIBLE, '').replace(LOOKALIKE_SEPARATORS, '_').replace(UNSAFE, '_');
  // leading dots would hide the file or climb directories once joined to a path; a leading '-' is
  // read as an option; trailing dots and spaces vanish on Windows
  name = trimEnds(name);
  if (name === '' || /^_+$/.test(name)) name = fallback;
  if (DEVICE.test(name)) name = `_${name}`;
  // NFC again: removing a character can leave a combining mark next to a new base
  return capBytes(name.normalize('NFC'), MAX_STORED_NAME_BYTES);
}

/** Drops leading dots, dashes, underscores and white space, and trailing dots and white space. */
function trimEnds(name: string): string {
  let start = 0;
  while (start < name.length && /[.\-_\s]/.test(name[start]!)) start++;
  let end = name.length;
  while (end > start && /[.\s]/.test(name[end - 1]!)) end--;
  return name.slice(start, end);
}

/**
 * Cuts at a character boundary, keeping the extension, which tells the engineer what it is. One
 * pass over the code points (the cut used to re-measure the whole name once per character removed).
 */
export function capBytes(name: string, max: number): string {
  if (Buffer.byteLength(name) <= max) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  return takeBytes(name.slice(0, name.length - ext.length), max - Buffer.byteLength(ext)) + ext;
}

/** The longest prefix of whole code points that fits in `max` UTF-8 bytes. */
function takeBytes(text: string, max: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > max) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

/**
 * Where a duplicate's number goes: `logs.7z` → `logs (2).7z`. The extension stays last because it
 * tells the engineer what the file is.
 */
export function duplicateParts(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? { stem: name.slice(0, dot), ext: name.slice(dot) } : { stem: name, ext: '' };
}
