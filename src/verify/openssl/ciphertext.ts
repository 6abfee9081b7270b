import { checkEncryptedRegions, refuse } from '../common/byte-map.js';
import { malformed } from '../common/malformed.js';
import { RandomnessMeter } from '../common/randomness.js';
import type { ByteSource } from '../common/source.js';

/**
 * The byte map of `openssl enc` output is fixed: "Salted__" and the salt (16 bytes), then
 * ciphertext to the end. The ciphertext must look like it; with -a it is tested after decoding.
 */
const HEADER = 16;
const CHUNK = 64 * 1024;
const NOT_BASE64 = /[^A-Za-z0-9+/]/;

export async function checkBinaryCiphertext(source: ByteSource): Promise<void> {
  await checkEncryptedRegions(source, [
    { start: 0, end: HEADER, kind: 'metadata', what: 'the salt header' },
    { start: HEADER, end: source.size, kind: 'encrypted', what: 'the data after the salt' },
  ]);
}

/** Decodes the base64 text in 64 KiB pieces (line ends dropped) and tests the bytes after the salt. */
export async function checkBase64Ciphertext(source: ByteSource): Promise<void> {
  const meter = new RandomnessMeter(HEADER);
  let carry = '';
  let decoded = 0;
  for (let offset = 0; offset < source.size && !meter.failed; offset += CHUNK) {
    const text = carry + (await source.read(offset, CHUNK)).toString('latin1').replace(/[\r\n]/g, '');
    const bad = NOT_BASE64.exec(text);
    // Buffer's decoder would skip anything else silently; padding may only end the text
    if (bad && !(bad[0] === '=' && /^=*\s*$/.test(text.slice(bad.index))))
      malformed(`a character that is not base64 (${JSON.stringify(bad[0])}) in the text, near offset ${offset}`);
    const whole = text.length - (text.length % 4);
    carry = text.slice(whole);
    const bytes = Buffer.from(text.slice(0, whole), 'base64');
    const skip = Math.max(0, HEADER - decoded);
    decoded += bytes.length;
    meter.push(bytes.subarray(skip));
  }
  const failure = meter.finish();
  if (failure)
    refuse('not-ciphertext', `the data after the salt (decoded from base64; offsets are of the decoded bytes) does not look like ciphertext: ${failure}`);
}
