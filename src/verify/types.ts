import type { ReasonCode } from '../reasons/table.js';

/** Stable reason codes: one closed list, with the table the README's policy table is made from. */
export type { ReasonCode };

export interface VerifyResult {
  /** what the content is, by its bytes: 'zip', '7z', 'openpgp', 'openssl-enc', 'pdf', 'gzip', 'unknown', … */
  format: string;
  verdict: 'accept' | 'reject';
  reason: ReasonCode;
  /** e.g. 'AES-256', 'WinZip AES-256 (AE-2)', 'CAST5' */
  cipher?: string;
  details: Record<string, unknown>;
  /** one short human sentence with the exact command that fixes a refusal (empty on accept) */
  advice: string;
}

/** `source`: random access the caller opened (an upload read back from the encrypted store); verify closes it. */
export type VerifyInput =
  | { name?: string; buffer: Uint8Array }
  | { name?: string; path: string }
  | { name?: string; source: { readonly size: number; read(offset: number, length: number): Promise<Buffer>; close(): Promise<void> } };

/** casedrop's own published OpenPGP key: attachments encrypted to it are accepted. */
export interface IntakeKey {
  publicKeyArmored: string;
  /** when present, attachments encrypted to the key are decrypted in memory to prove integrity */
  privateKeyArmored?: string;
  passphrase?: string;
}

export interface VerifyOptions {
  intakeKey?: IntakeKey;
}
