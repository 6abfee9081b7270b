import { createHash, createPublicKey } from 'node:crypto';
import ssh2 from 'ssh2';
import { CasedropError, ErrorCode } from '../errors.js';

/**
 * Per-case SSH public keys, the pure part: reading an OpenSSH `.pub` line, the fingerprint as
 * `ssh-keygen -lf` prints it, which key types are accepted, and checking a login's signature.
 * I/O (Redis) is in ssh-keys.ts.
 */
export interface SshKey {
  id: string;
  caseNumber: string;
  label: string;
  /** the key's own type name, e.g. `ssh-ed25519` */
  type: string;
  /** `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as OpenSSH shows it */
  fingerprint: string;
  addedAt: string;
  lastUsedAt?: string;
}

export interface StoredSshKey extends SshKey {
  /** base64 of the public key blob (the wire form a client offers) */
  blob: string;
}

export interface ParsedPublicKey {
  type: string;
  blob: Buffer;
  comment: string;
  fingerprint: string;
}

// DSA and SHA-1-only keys are gone from OpenSSH's defaults; security keys (sk-*) ssh2 cannot verify
const ACCEPTED = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']);
const MIN_RSA_BITS = 2048;

export function fingerprintOf(blob: Buffer): string {
  // 32 bytes are 43 base64 characters and one `=`, which OpenSSH leaves out
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').slice(0, 43);
}

export const MAX_PUB_FILE_BYTES = 16 * 1024;

/** One public key from the text of a `.pub` file (OpenSSH format); a private key is refused so it is never stored. */
export function parsePublicKey(text: string): ParsedPublicKey {
  // a 16384-bit RSA key line is about 2.8 KB: anything far longer is not a .pub file
  if (text.length > MAX_PUB_FILE_BYTES) throw invalid(`a .pub file is one line of a few KB; this one has ${text.length} characters`);
  if (text.includes('PRIVATE KEY')) throw invalid('that is a private key: give the .pub file');
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (lines.length !== 1) throw invalid(`a .pub file holds one key line (found ${lines.length})`);
  const parsed = ssh2.utils.parseKey(lines[0]!.trim());
  if (parsed instanceof Error) throw invalid(`not an OpenSSH public key: ${parsed.message.slice(0, 100)}`);
  if (parsed.isPrivateKey()) throw invalid('that is a private key: give the .pub file');
  if (!ACCEPTED.has(parsed.type)) throw invalid(`key type ${parsed.type} is not accepted: use ed25519, ecdsa or rsa (${MIN_RSA_BITS} bits or more)`);
  if (parsed.type === 'ssh-rsa') {
    const bits = createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw invalid(`an RSA key of ${bits} bits is too short: ${MIN_RSA_BITS} or more`);
  }
  const blob = parsed.getPublicSSH();
  return { type: parsed.type, blob, comment: parsed.comment, fingerprint: fingerprintOf(blob) };
}

export interface KeyOffer {
  /** the key's type (ssh2 reports `ssh-rsa` for rsa-sha2-256/512 too, with `hashAlgo` set) */
  algo: string;
  data: Buffer;
  signed?: { blob: Buffer; signature: Buffer; hashAlgo?: string };
}

/**
 * Whether an offered key is this stored one and, when signed, whether the signature over the
 * session's data checks. RSA must sign with SHA-2 (rsa-sha2-256/512): a SHA-1 `ssh-rsa`
 * signature is refused, as OpenSSH itself does by default since 8.8.
 */
export function offerMatches(stored: StoredSshKey, offer: KeyOffer): boolean {
  if (offer.algo !== stored.type || !offer.data.equals(Buffer.from(stored.blob, 'base64'))) return false;
  if (!offer.signed) return true;
  if (stored.type === 'ssh-rsa' && offer.signed.hashAlgo !== 'sha256' && offer.signed.hashAlgo !== 'sha512') return false;
  const key = ssh2.utils.parseKey(offer.data);
  if (key instanceof Error) return false;
  return key.verify(offer.signed.blob, offer.signed.signature, offer.signed.hashAlgo) === true;
}

function invalid(message: string): CasedropError {
  return new CasedropError(ErrorCode.UsageInvalid, message);
}
