import { decide } from '../advice.js';
import type { DataInfo, EskInfo, S2kInfo } from './fields.js';
import type { VerifyResult } from '../types.js';

/**
 * The intake policy for OpenPGP, as a pure function of what the packet walk found: no I/O, so every
 * branch is testable with plain objects.
 */
export type MessageShape =
  /** the first packet is not encryption: literal, compressed, signed, a key … */
  { kind: 'plain'; what: string } | { kind: 'encrypted'; esks: EskInfo[]; data: DataInfo | undefined };

const STRONG: Readonly<Record<number, string>> = {
  7: 'AES-128',
  8: 'AES-192',
  9: 'AES-256',
  10: 'Twofish',
  11: 'Camellia-128',
  12: 'Camellia-192',
  13: 'Camellia-256',
};
const WEAK: Readonly<Record<number, string>> = { 0: 'plaintext', 1: 'IDEA', 2: '3DES', 3: 'CAST5', 4: 'Blowfish' };
const AEAD: Readonly<Record<number, string>> = { 1: 'EAX', 2: 'OCB', 3: 'GCM' };
const DATA_NAMES: Readonly<Record<number, string>> = { 9: 'SED', 18: 'SEIPD', 20: 'AEAD' };

export function cipherName(id: number): string {
  return STRONG[id] ?? WEAK[id] ?? `unknown cipher ${id}`;
}

export function isStrong(id: number): boolean {
  return id in STRONG;
}

/** `intakeKeyIds`: the configured intake key's (sub)key ids, 16 lowercase hex digits each. */
export function judgeMessage(shape: MessageShape, intakeKeyIds: ReadonlySet<string>): VerifyResult {
  if (shape.kind === 'plain') return decide('openpgp', 'unencrypted', { details: { packet: shape.what } });
  const { esks, data } = shape;
  if (!data) return decide('openpgp', 'corrupt', { details: { problem: 'no encrypted data after the session-key packets' } });
  const visible = data.cipher ?? esks.map((esk) => (esk.kind === 'skesk' ? esk.dataCipher : undefined)).find((id) => id !== undefined);
  const cipher = visible === undefined ? undefined : cipherName(visible);
  const details = describe(esks, data);
  if (data.tag === 9) return decide('openpgp', 'no-integrity', { cipher, details });
  if (esks.length === 0) return decide('openpgp', 'corrupt', { details: { ...details, problem: 'no session-key packet' } });
  const weak = [visible, ...esks.map((esk) => (esk.kind === 'skesk' ? esk.wrapCipher : undefined))].find((id) => id !== undefined && !isStrong(id));
  if (weak !== undefined) return decide('openpgp', 'weak-cipher', { cipher: cipherName(weak), details });
  if (data.tag === 20 || data.version === 2) {
    if (data.aead === undefined || !(data.aead in AEAD))
      return decide('openpgp', 'corrupt', { details: { ...details, problem: `unknown AEAD mode ${data.aead}` } });
  }
  const weakKdf = esks.map((esk) => (esk.kind === 'skesk' ? weakS2k(esk.s2k) : undefined)).find(Boolean);
  if (weakKdf) return decide('openpgp', 'weak-kdf', { cipher, details: { ...details, problem: weakKdf } });
  const usable = esks.some((esk) => esk.kind === 'skesk' || (esk.keyId !== null && intakeKeyIds.has(esk.keyId)));
  if (!usable) {
    const keys = esks.map((esk) => (esk.kind === 'pkesk' ? (esk.keyId ?? 'anonymous').toUpperCase() : '')).filter(Boolean);
    return decide('openpgp', 'pgp-unknown-key', { cipher, details, note: `It is encrypted to ${keys.join(', ')}, not to casedrop.` });
  }
  return decide('openpgp', 'encrypted', { cipher, details });
}

/** RFC 9580 §3.7.2: simple and salted S2K must not protect a passphrase; below these, guessing is cheap. */
export const MIN_S2K_COUNT = 1_048_576;
export const MIN_ARGON2_KIB = 65_536;

function weakS2k(s2k: S2kInfo): string | undefined {
  if (s2k.type === 'iterated')
    return s2k.count !== undefined && s2k.count >= MIN_S2K_COUNT
      ? undefined
      : `the passphrase is hashed over only ${s2k.count} bytes (iterated S2K; at least ${MIN_S2K_COUNT} wanted)`;
  if (s2k.type === 'argon2')
    return s2k.memoryKiB !== undefined && s2k.memoryKiB >= MIN_ARGON2_KIB
      ? undefined
      : `Argon2 with only ${s2k.memoryKiB} KiB of memory (at least ${MIN_ARGON2_KIB} wanted)`;
  return `the passphrase is turned into the key with the ${s2k.type} S2K, which does no key stretching`;
}

function describe(esks: EskInfo[], data: DataInfo): Record<string, unknown> {
  const sessionKeys = esks.map((esk) =>
    esk.kind === 'skesk'
      ? `SKESK v${esk.version}${esk.wrapCipher === undefined ? '' : ` (wrapped with ${cipherName(esk.wrapCipher)})`}`
      : `PKESK v${esk.version} to ${(esk.keyId ?? 'anonymous').toUpperCase()}`,
  );
  const mode = data.aead === undefined ? (data.tag === 18 ? 'CFB+MDC' : 'CFB') : (AEAD[data.aead] ?? `AEAD ${data.aead}`);
  return { sessionKeys, data: `${DATA_NAMES[data.tag] ?? data.tag}${data.version === undefined ? '' : ` v${data.version}`}`, mode };
}
