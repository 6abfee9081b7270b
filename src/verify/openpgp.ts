import { decide } from './advice.js';
import type { Detector } from './detector.js';
import { armorType, unarmoredStream } from './openpgp-armor.js';
import { checkIntegrity, intakeKeyring, type IntakeKeyring } from './openpgp-intake.js';
import type { EskInfo } from './openpgp-fields.js';
import { cipherName, isStrong, judgeMessage, type MessageShape } from './openpgp-policy.js';
import { sourceReader, streamReader } from './openpgp-reader.js';
import { looksLikePacket, readShape } from './openpgp-walk.js';
import type { ByteSource } from './source.js';
import type { VerifyResult } from './types.js';

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
    if (shape instanceof Error) return decide('openpgp', 'corrupt', { details: { error: shape.message.slice(0, 200) } });
    const keyring = await intakeKeyring(options.intakeKey);
    const result = judgeMessage(shape, keyring.keyIds);
    if (type !== undefined) result.details.armored = true;
    return result.verdict === 'accept' && shape.kind === 'encrypted' ? proveIfIntake(result, shape.esks, keyring, source, type !== undefined) : result;
  },
};

async function readMessageShape(source: ByteSource, armored: boolean): Promise<MessageShape | Error> {
  if (!armored) return readShape(sourceReader(source)).catch(asError);
  const reader = streamReader(await unarmoredStream(source));
  try {
    return await readShape(reader);
  } catch (err) {
    return asError(err);
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
  const check = await checkIntegrity(source, armored, keyring.privateKey);
  if (!check.checked) return { ...result, details: { ...details, integrity: `not checked (${check.why})` } };
  if (!check.ok) return decide('openpgp', 'corrupt', { details: { ...details, integrity: 'failed', error: check.error } });
  const cipher = check.cipherId === undefined ? result.cipher : cipherName(check.cipherId);
  const verified = { ...details, integrity: check.note ? `verified (${check.note})` : 'verified' };
  if (check.cipherId !== undefined && !isStrong(check.cipherId)) return decide('openpgp', 'weak-cipher', { cipher, details: verified });
  return decide('openpgp', 'encrypted', { cipher, details: verified });
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
