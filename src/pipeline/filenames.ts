/**
 * Stored names: what the engineer downloads and what the CLI prints. The original (decoded,
 * Unicode) name is kept in the metadata for display; the stored one must be safe on any file
 * system and in a shell, so path separators and control characters go and the length is capped.
 */
export const MAX_STORED_NAME_BYTES = 200;

// C0/C1 controls, DEL, bidi overrides (they disguise extensions: "gpj.exe") and path separators
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069/\\:*?"<>|]/g;

export function sanitizeFilename(original: string | undefined, fallback = 'attachment'): string {
  let name = (original ?? '').normalize('NFC').replace(UNSAFE, '_').trim();
  // leading dots would hide the file or climb directories once joined to a path
  name = name.replace(/^[.\s_]+(?=[^._\s])/, '').replace(/^[.\s]+$/, '');
  if (name === '' || /^_+$/.test(name)) name = fallback;
  return capBytes(name, MAX_STORED_NAME_BYTES);
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
