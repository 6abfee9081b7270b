import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { SigningKeys } from './keys.js';

/**
 * A receipt's signature: a compact JWS (RFC 7515, EdDSA/Ed25519) whose payload is the receipt's
 * JSON. The receipt travels as JSON with the JWS beside it in `signature`; verifying means
 * checking the JWS against casedrop's published keys and that its payload says what the receipt
 * says. The typ keeps a casedrop receipt from being mistaken for any other signed token.
 */
export const RECEIPT_TYP = 'casedrop-receipt+jws';

export async function signReceipt(receipt: object, keys: Pick<SigningKeys, 'kid' | 'privateKey'>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(receipt)))
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: RECEIPT_TYP })
    .sign(keys.privateKey);
}

export type ReceiptCheck = { ok: true; payload: Record<string, unknown>; kid: string } | { ok: false; why: string };

/** Checks the signature and that the receipt's fields are exactly the signed ones. */
export async function verifyReceipt(receipt: Record<string, unknown>, jwks: JSONWebKeySet): Promise<ReceiptCheck> {
  const { signature, ...fields } = receipt;
  if (typeof signature !== 'string' || signature.length > 16_384) return { ok: false, why: 'the receipt has no signature' };
  let verified;
  try {
    verified = await compactVerify(signature, createLocalJWKSet(jwks), { algorithms: ['EdDSA'] });
  } catch (err) {
    return { ok: false, why: `the signature does not verify against casedrop's keys (${(err as Error).message})` };
  }
  if (verified.protectedHeader.typ !== RECEIPT_TYP) return { ok: false, why: 'the signature is not a casedrop receipt' };
  const payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  if (!sameFields(payload, fields)) return { ok: false, why: 'the receipt was changed after it was signed: its fields differ from the signed ones' };
  return { ok: true, payload, kid: String(verified.protectedHeader.kid ?? '') };
}

function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}
