import { malformed } from '../common/malformed.js';
import type { RawPacket } from './packets.js';

/**
 * The fields of session-key and encrypted-data packets that the policy needs, parsed by openpgp.js
 * from the bytes the walker kept. openpgp's typings omit these fields (formats.md), so each is
 * narrowed here at run time and nothing untyped leaves this module. openpgp.js is imported on first
 * use: it is ~10 MiB of heap in every process that verifies (the upload role, the intake worker)
 * whether or not an OpenPGP file ever arrives.
 */
export type EskInfo =
  /** dataCipher: visible only in a v4 SKESK without an encrypted session key (gpg -c) */
  | { kind: 'skesk'; version: number; dataCipher?: number; wrapCipher?: number; s2k: S2kInfo }
  /** keyId: 16 hex digits, or null for an anonymous ("wildcard") recipient */
  | { kind: 'pkesk'; version: number; keyId: string | null };

/** How the passphrase becomes a key: `count` = bytes hashed (iterated), `memoryKiB` (Argon2). */
export interface S2kInfo {
  type: string;
  count?: number;
  memoryKiB?: number;
}

export interface DataInfo {
  /** 9 SED, 18 SEIPD, 20 LibrePGP AEAD */
  tag: number;
  version?: number;
  /** visible only in SEIPD v2 and the AEAD packet */
  cipher?: number;
  aead?: number;
}

interface SkeskFields {
  s2k?: { type?: unknown; c?: unknown; encodedM?: unknown };
  version?: unknown;
  sessionKeyAlgorithm?: unknown;
  sessionKeyEncryptionAlgorithm?: unknown;
}
interface PkeskFields {
  version?: unknown;
  publicKeyID?: { isWildcard(): boolean; toHex(): string };
}
interface EncryptedDataFields {
  version?: unknown;
  cipherAlgorithm?: unknown;
  aeadAlgorithm?: unknown;
}

export async function parseEsk(packet: RawPacket): Promise<EskInfo> {
  const { PublicKeyEncryptedSessionKeyPacket, SymEncryptedSessionKeyPacket } = await import('openpgp');
  if (packet.tag === 3) {
    const skesk = new SymEncryptedSessionKeyPacket();
    skesk.read(packet.head);
    const fields: SkeskFields = skesk as unknown as SkeskFields;
    return {
      kind: 'skesk',
      version: int(fields.version, 'SKESK version'),
      dataCipher: optionalInt(fields.sessionKeyAlgorithm),
      wrapCipher: optionalInt(fields.sessionKeyEncryptionAlgorithm),
      s2k: s2kInfo(fields.s2k),
    };
  }
  const pkesk = new PublicKeyEncryptedSessionKeyPacket();
  pkesk.read(packet.head);
  const fields: PkeskFields = pkesk as unknown as PkeskFields;
  const keyId = fields.publicKeyID;
  if (!keyId) malformed('PKESK without a key id');
  return { kind: 'pkesk', version: int(fields.version, 'PKESK version'), keyId: keyId.isWildcard() ? null : keyId.toHex() };
}

export async function parseData(packet: RawPacket): Promise<DataInfo> {
  if (packet.tag === 9) return { tag: 9 };
  const { AEADEncryptedDataPacket, SymEncryptedIntegrityProtectedDataPacket } = await import('openpgp');
  const parsed = packet.tag === 18 ? new SymEncryptedIntegrityProtectedDataPacket() : new AEADEncryptedDataPacket();
  await parsed.read(packet.head);
  const fields: EncryptedDataFields = parsed as unknown as EncryptedDataFields;
  return {
    tag: packet.tag,
    version: int(fields.version, 'data packet version'),
    cipher: optionalInt(fields.cipherAlgorithm),
    aead: optionalInt(fields.aeadAlgorithm),
  };
}

/** RFC 9580 §3.7.1.3: the count octet c codes (16 + (c & 15)) << ((c >> 4) + 6) bytes. */
function s2kInfo(s2k: SkeskFields['s2k']): S2kInfo {
  const type = typeof s2k?.type === 'string' ? s2k.type : 'unknown';
  const c = optionalInt(s2k?.c);
  const m = optionalInt(s2k?.encodedM);
  if (type === 'iterated' && c !== undefined) return { type, count: (16 + (c & 15)) * 2 ** ((c >> 4) + 6) };
  if (type === 'argon2' && m !== undefined) return { type, memoryKiB: 2 ** m };
  return { type };
}

function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) malformed(`${what} missing`);
  return value;
}

function optionalInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
