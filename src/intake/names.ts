import { MAX_STORED_NAME_BYTES, sanitizeFilename } from '../pipeline/filenames.js';

/** The longest name a customer may send (bytes of UTF-8), before any duplicate suffix. */
export const MAX_NAME_INPUT_BYTES = 1024;

export const NAME_RULE =
  `a file name is one path segment of at most ${MAX_STORED_NAME_BYTES} bytes of UTF-8, ` +
  'without "/", "\\", control characters, bidi overrides, leading dots or any of : * ? " < > |';

/**
 * Pure: an upload names its file directly, so a name the email sanitiser would have to change is
 * refused with the rule instead of being silently rewritten (the customer's script would not find
 * it). The same sanitiser decides, so the two channels cannot drift apart.
 */
export function checkUploadName(raw: string): { ok: true; name: string } | { ok: false; why: string } {
  if (Buffer.byteLength(raw) > MAX_NAME_INPUT_BYTES) return { ok: false, why: `The name is too long: ${NAME_RULE}.` };
  const name = raw.normalize('NFC');
  if (name === '') return { ok: false, why: `The name is empty: ${NAME_RULE}.` };
  if (sanitizeFilename(name, '') !== name) return { ok: false, why: `The name "${printable(name)}" is not allowed: ${NAME_RULE}.` };
  return { ok: true, name };
}

/** Echoing a refused name back must not echo its control characters. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return Array.from(name.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?'))
    .slice(0, 80)
    .join('');
}
