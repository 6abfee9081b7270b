import { decrypt, decryptKey, decryptSessionKeys, readKey, readMessage, readPrivateKey, type PrivateKey } from 'openpgp';
import type { ByteSource } from '../common/source.js';
import type { IntakeKey } from '../types.js';
import type { enums } from 'openpgp';

/** RFC 9580 ids of openpgp.js's algorithm names (its session keys name the cipher). */
const SYMMETRIC_IDS: Readonly<Record<enums.symmetricNames, number>> = {
  idea: 1,
  tripledes: 2,
  cast5: 3,
  blowfish: 4,
  aes128: 7,
  aes192: 8,
  aes256: 9,
  twofish: 10,
};

/**
 * casedrop's own intake key. Its (sub)key ids decide whether a PKESK is addressed to casedrop; when
 * the secret key is configured too, a message to it is decrypted in memory, within bounds, to prove
 * that its integrity protection (MDC or AEAD tag) holds and to learn the cipher the PKESK hides.
 */
export interface IntakeKeyring {
  keyIds: ReadonlySet<string>;
  privateKey?: PrivateKey;
}

/** Decrypted only up to this size: the SMTP door takes 20 MiB messages, so every mailed one fits. */
export const INTEGRITY_CHECK_MAX_BYTES = 32 * 1024 * 1024;
/** A compressed payload may expand this far before openpgp.js stops (a decompression bomb). */
export const DECOMPRESSED_MAX_BYTES = 64 * 1024 * 1024;

const EMPTY: IntakeKeyring = { keyIds: new Set() };
const loaded = new WeakMap<IntakeKey, Promise<IntakeKeyring>>();

/** Parsed once per configured key object; a key that does not parse fails every check (closed). */
export function intakeKeyring(key: IntakeKey | undefined): Promise<IntakeKeyring> {
  if (!key) return Promise.resolve(EMPTY);
  let ring = loaded.get(key);
  if (!ring) loaded.set(key, (ring = loadKeyring(key)));
  return ring;
}

async function loadKeyring(key: IntakeKey): Promise<IntakeKeyring> {
  const publicKey = await readKey({ armoredKey: key.publicKeyArmored });
  const keyIds = new Set(publicKey.getKeyIDs().map((id) => id.toHex()));
  if (!key.privateKeyArmored) return { keyIds };
  let privateKey = await readPrivateKey({ armoredKey: key.privateKeyArmored });
  if (!privateKey.isDecrypted()) privateKey = await decryptKey({ privateKey, passphrase: key.passphrase ?? '' });
  return { keyIds, privateKey };
}

export type IntegrityCheck =
  { checked: false; why: string } | { checked: true; ok: true; cipherId?: number; note?: string } | { checked: true; ok: false; error: string };

export async function checkIntegrity(source: ByteSource, armored: boolean, privateKey: PrivateKey): Promise<IntegrityCheck> {
  if (source.size > INTEGRITY_CHECK_MAX_BYTES) return { checked: false, why: `larger than ${INTEGRITY_CHECK_MAX_BYTES} bytes` };
  const bytes = await source.read(0, source.size);
  const config = { maxDecompressedMessageSize: DECOMPRESSED_MAX_BYTES };
  // decryptSessionKeys consumes the PKESK packet, so each step parses its own copy of the message
  const parse = () => (armored ? readMessage({ armoredMessage: bytes.toString('latin1'), config }) : readMessage({ binaryMessage: bytes, config }));
  let cipherId: number | undefined;
  try {
    const [sessionKey] = await decryptSessionKeys({ message: await parse(), decryptionKeys: privateKey, config });
    if (!sessionKey) return { checked: true, ok: false, error: 'no session key for the intake key' };
    cipherId = sessionKey.algorithm === null ? undefined : SYMMETRIC_IDS[sessionKey.algorithm];
    await decrypt({ message: await parse(), decryptionKeys: privateKey, format: 'binary', config });
    return { checked: true, ok: true, cipherId };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // openpgp.js checks the MDC / AEAD tags over the whole ciphertext before it inflates the
    // payload, so hitting the inflation bound means the integrity check has already passed.
    if (/maximum decompressed (message )?size exceeded/i.test(error))
      return { checked: true, ok: true, cipherId, note: `payload inflates beyond ${DECOMPRESSED_MAX_BYTES} bytes` };
    return { checked: true, ok: false, error: error.slice(0, 200) };
  }
}
