import { decide } from '../advice.js';
import type { VerifyResult } from '../types.js';
import { AES_CODER, type HeaderView } from './header.js';
import type { Coder } from './streams.js';

/** 7-Zip's default (and only) choice since 2005: 2^19 SHA-256 rounds. Fewer is a crafted or careless tool. */
export const MIN_KDF_POWER = 19;
/** NumCyclesPower 0x3f: the key is salt ‖ password itself, no hashing at all */
const NO_KDF = 0x3f;

/** The policy, from what the header shows. */
export function judgeHeader(view: HeaderView): VerifyResult {
  if (view.kind === 'empty') return decide('7z', 'unencrypted', { details: { folders: 0, note: 'empty archive' } });
  if (view.kind === 'encrypted-header') return judgeKdf({ encryptedHeaders: true }, [view.coder]);
  const encrypted = view.folders.map((folder) => folder.coders.find((coder) => coder.id === AES_CODER));
  const count = encrypted.filter(Boolean).length;
  const details = { encryptedHeaders: false, headerCompressed: view.encoded, folders: view.folders.length, encryptedFolders: count };
  if (count === 0) return decide('7z', 'unencrypted', { details });
  if (count < view.folders.length)
    return decide('7z', 'partial-encryption', { details, note: `${view.folders.length - count} of ${view.folders.length} blocks of files are not encrypted.` });
  if (view.freeText.length > 0) return decide('7z', 'plaintext-metadata', { details: { ...details, problem: `the header holds ${view.freeText.join('; ')}` } });
  return judgeKdf(
    details,
    encrypted.map((coder) => coder!.properties),
  );
}

/** Every AES coder (each folder's, and the encrypted header's) must derive its key with enough rounds. */
function judgeKdf(details: Record<string, unknown>, properties: Array<Coder['properties']>): VerifyResult {
  const powers = properties.map(kdfPower);
  const weakest = Math.min(...powers);
  const withKdf = { ...details, kdfRounds: weakest === NO_KDF ? 0 : 2 ** weakest };
  if (weakest === NO_KDF || weakest < MIN_KDF_POWER) {
    return decide('7z', 'weak-kdf', {
      cipher: 'AES-256',
      details: { ...withKdf, problem: `the key is derived with ${withKdf.kdfRounds} SHA-256 rounds; 7-Zip uses 2^${MIN_KDF_POWER}` },
    });
  }
  return decide('7z', 'encrypted', { cipher: 'AES-256', details: withKdf });
}

/** 7zAES properties: byte 0 bits 0–5 = log2 of the SHA-256 key-derivation rounds (63: none). */
function kdfPower(properties: Coder['properties']): number {
  const first = properties[0];
  // no properties at all: 7zAES then uses NumCyclesPower 0 — one round
  return first === undefined ? 0 : first & 0x3f;
}
