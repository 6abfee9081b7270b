import { decide } from '../advice.js';
import type { VerifyResult } from '../types.js';

const HEADER = 16; // "Salted__" + 8-byte salt
const KDF_NOTE = 'not recorded (-pbkdf2 and the old MD5 derivation of -k look the same)';

/** The verdict from the (decoded) length alone. */
export function judgeLength(length: number, encoding: 'binary' | 'base64'): VerifyResult {
  const details = { encoding, bytes: length, kdf: KDF_NOTE };
  const body = length - HEADER;
  if (body <= 0) return decide('openssl-enc', 'corrupt', { details: { ...details, problem: 'nothing after the salt header: cut short' } });
  if (body % 16 === 0) return decide('openssl-enc', 'encrypted', { details, cipher: 'AES (block size 16, cipher not recorded)' });
  if (body % 8 === 0) return decide('openssl-enc', 'weak-cipher', { details, cipher: '64-bit block cipher (3DES, Blowfish …)' });
  return decide('openssl-enc', 'corrupt', {
    details: {
      ...details,
      problem: 'the length fits no block cipher: cut short, or a stream mode (-aes-256-ctr, -chacha20) that cannot be told apart from a cut file',
    },
    note: 'If you used a stream mode, use -aes-256-cbc instead.',
  });
}
