import { decide } from '../advice.js';
import type { VerifyResult } from '../types.js';
import { AES_CODER, type HeaderView } from './header.js';
import type { Coder } from './streams.js';

/** The policy, from what the header shows. */
export function judgeHeader(view: HeaderView): VerifyResult {
  if (view.kind === 'empty') return decide('7z', 'unencrypted', { details: { folders: 0, note: 'empty archive' } });
  if (view.kind === 'encrypted-header') return decide('7z', 'encrypted', { cipher: 'AES-256', details: { encryptedHeaders: true, ...aesDetails(view.coder) } });
  const encrypted = view.folders.map((folder) => folder.coders.find((coder) => coder.id === AES_CODER));
  const count = encrypted.filter(Boolean).length;
  const details = { encryptedHeaders: false, headerCompressed: view.encoded, folders: view.folders.length, encryptedFolders: count };
  if (count === 0) return decide('7z', 'unencrypted', { details });
  if (count < view.folders.length) return decide('7z', 'partial-encryption', { details, note: `${view.folders.length - count} of ${view.folders.length} blocks of files are not encrypted.` });
  return decide('7z', 'encrypted', { cipher: 'AES-256', details: { ...details, ...aesDetails(encrypted[0]!.properties) } });
}

/** 7zAES properties: byte 0 bits 0–5 = log2 of the SHA-256 key-derivation rounds (63: none). */
function aesDetails(properties: Coder['properties']): Record<string, unknown> {
  const power = properties[0];
  if (power === undefined) return {};
  return { kdfRounds: (power & 0x3f) === 0x3f ? 0 : 2 ** (power & 0x3f) };
}
