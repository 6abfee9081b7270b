import { decide } from '../advice.js';
import type { Detector } from '../common/detector.js';
import { base64DecodedLength } from './base64.js';
import { checkBase64Ciphertext, checkBinaryCiphertext } from './ciphertext.js';
import { judgeLength } from './judge.js';

const SALTED = Buffer.from('Salted__');
const SALTED_BASE64 = Buffer.from('U2FsdGVkX1');

/**
 * `openssl enc` output. Nothing in it names the cipher, so the only evidence is the length: CBC
 * with PKCS#7 padding always adds 1..B bytes to whole blocks of B, and B is 16 for AES and 8 for
 * the 64-bit block ciphers (3DES, Blowfish). Everything after the salt must look like ciphertext.
 */
export const opensslDetector: Detector = {
  format: 'openssl-enc',
  recognises: (head) => startsWith(head, SALTED) || startsWith(head, SALTED_BASE64),
  async verify(source, head) {
    if (startsWith(head, SALTED)) {
      const result = judgeLength(source.size, 'binary');
      if (result.reason === 'encrypted') await checkBinaryCiphertext(source);
      return result;
    }
    const length = await base64DecodedLength(source);
    if (typeof length !== 'number') return decide('openssl-enc', 'corrupt', { details: { encoding: 'base64', problem: length.problem } });
    const result = judgeLength(length, 'base64');
    if (result.reason === 'encrypted') await checkBase64Ciphertext(source);
    return result;
  },
};

function startsWith(head: Buffer, magic: Buffer): boolean {
  return head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
}
