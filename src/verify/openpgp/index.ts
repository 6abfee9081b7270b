import { decide } from '../advice.js';
import type { Detector } from '../common/detector.js';
import { armorType, unarmoredStream } from './armor.js';
import type { IntakeKeyring } from './intake.js';
import type { EskInfo } from './fields.js';
import { cipherName, isStrong, judgeMessage, type MessageShape } from './policy.js';
import { sourceReader, streamReader } from './reader.js';
import { looksLikePacket, readShape } from './walk.js';
import { MapRefusal } from '../common/byte-map.js';
import { isMalformed, malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';
import type { VerifyResult } from '../types.js';

/**
 * OpenPGP, binary or ASCII-armored: SKESK/PKESK then integrity-protected data with a strong cipher.
 * Only packet headers are read (plus, with a configured intake secret key, one bounded decryption).
 */
export const openpgpDetector: Detector = {
  format: 'openpgp',
  recognises: (head) => armorType(head) !== undefined || looksLikePacket(head),
  async verify(source, head, options) {
    const type = armorType(head);
    if (type !== undefined && type !== 'MESSAGE') return decide('openpgp', 'unencrypted', { details: { armor: `PGP ${type}` } });
    const shape = await readMessageShape(source, type !== undefined);
    // openpgp.js only once an OpenPGP message arrives (see fields.ts)
    const { intakeKeyring } = await import('./intake.js');
    const keyring = await intakeKeyring(options.intakeKey);
    const result = judgeMessage(shape, keyring.keyIds);
    if (type !== undefined) result.details.armored = true;
    return result.verdict === 'accept' && shape.kind === 'encrypted' ? proveIfIntake(result, shape.esks, keyring, source, type !== undefined) : result;
  },
};

async function readMessageShape(source: ByteSource, armored: boolean): Promise<MessageShape> {
  if (!armored) return readShape(sourceReader(source));
  const reader = streamReader(unarmoredStream(source));
  try {
    return await readShape(reader);
  } catch (err) {
    // openpgp.js's armor decoder throws plain errors for bad armor: the same verdict as a bad packet
    if (isMalformed(err) || err instanceof MapRefusal) throw err;
    return malformed(err instanceof Error ? err.message : String(err));
  } finally {
    await reader.cancel();
  }
}

/** Only a message that casedrop can open solely through its intake key is decrypted. */
async function proveIfIntake(result: VerifyResult, esks: EskInfo[], keyring: IntakeKeyring, source: ByteSource, armored: boolean): Promise<VerifyResult> {
  const toIntake = esks.some((esk) => esk.kind === 'pkesk' && esk.keyId !== null && keyring.keyIds.has(esk.keyId));
  if (!toIntake) return result;
  const details = { ...result.details, intakeKey: true };
  if (!keyring.privateKey) return { ...result, details: { ...details, integrity: 'not checked (no intake secret key configured)' } };
  const { checkIntegrity } = await import('./intake.js');
  const check = await checkIntegrity(source, armored, keyring.privateKey);
  if (!check.checked) return { ...result, details: { ...details, integrity: `not checked (${check.why})` } };
  if (!check.ok) return decide('openpgp', 'corrupt', { details: { ...details, integrity: 'failed', problem: check.error } });
  const cipher = check.cipherId === undefined ? result.cipher : cipherName(check.cipherId);
  const verified = { ...details, integrity: check.note ? `verified (${check.note})` : 'verified' };
  if (check.cipherId !== undefined && !isStrong(check.cipherId)) return decide('openpgp', 'weak-cipher', { cipher, details: verified });
  return decide('openpgp', 'encrypted', { cipher, details: verified });
}
