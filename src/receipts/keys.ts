import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { newId } from '../ids.js';
import type { ObjectStore } from '../store/types.js';

/**
 * casedrop's receipt-signing keys: Ed25519, kept as objects in the encrypted store
 * (`receipt-keys/<time-ordered id>`, content = PKCS#8 DER), so they are encrypted at rest under the
 * master key like everything else and rotate with `keys rewrap`. The oldest key signs; every key is
 * published. Two instances starting at once may each make one: both are kept and published, so a
 * receipt signed by either still verifies, and from then on both sign with the oldest.
 */
export const RECEIPT_KEYS_NAMESPACE = 'receipt-keys';

export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  /** the public keys as a JWK Set, for /.well-known/jwks.json */
  jwks: { keys: JWK[] };
}

export async function loadSigningKeys(store: ObjectStore): Promise<SigningKeys> {
  let ids = await store.list(`${RECEIPT_KEYS_NAMESPACE}/`);
  if (ids.length === 0) {
    const { privateKey } = generateKeyPairSync('ed25519');
    await store.put(
      RECEIPT_KEYS_NAMESPACE,
      Readable.from([privateKey.export({ format: 'der', type: 'pkcs8' })]),
      { kind: 'receipt-key', alg: 'EdDSA' },
      { name: newId() },
    );
    ids = await store.list(`${RECEIPT_KEYS_NAMESPACE}/`);
  }
  const keys = await Promise.all(ids.map((id) => readKey(store, id)));
  return { kid: keys[0]!.kid, privateKey: keys[0]!.privateKey, jwks: { keys: keys.map((k) => k.jwk) } };
}

async function readKey(store: ObjectStore, id: string): Promise<{ kid: string; privateKey: KeyObject; jwk: JWK }> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(id)) chunks.push(c as Buffer);
  const privateKey = createPrivateKey({ key: Buffer.concat(chunks), format: 'der', type: 'pkcs8' });
  const publicJwk = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, jwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}
