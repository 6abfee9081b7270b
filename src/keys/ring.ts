import { createHmac } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';

/** A master key never leaves the process: it only wraps and unwraps per-object data keys. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
  /**
   * 8 bytes derived from the key (HMAC), stored next to each wrapped data key, so a reader can
   * tell "wrong key under the right id" (KEY_UNKNOWN) from "damaged object" (OBJECT_CORRUPT).
   */
  readonly check: Buffer;
}

export interface KeyRing {
  /** New objects are wrapped under this one (the first configured). */
  readonly active: MasterKey;
  readonly ids: readonly string[];
  get(id: string): MasterKey | undefined;
}

export const MASTER_KEYS_ENV = 'CASEDROP_MASTER_KEYS';
export const MASTER_KEY_BYTES = 32;
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function keyCheck(key: Buffer): Buffer {
  return createHmac('sha256', key).update('casedrop master key check v1').digest().subarray(0, 8);
}

export function makeKeyRing(keys: readonly MasterKey[]): KeyRing {
  const active = keys[0];
  if (!active) throw invalid('no key given');
  const byId = new Map(keys.map((k) => [k.id, k]));
  return { active, ids: keys.map((k) => k.id), get: (id) => byId.get(id) };
}

/**
 * Parses `id:base64,id:base64,…`. Messages name the entry by position and id only: a key
 * (or something that might be one) is never echoed.
 */
export function parseMasterKeys(value: string): KeyRing {
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const keys = entries.map((entry, i) => parseEntry(entry, i + 1));
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k.id)) throw invalid(`key id "${k.id}" appears twice`);
    seen.add(k.id);
  }
  return makeKeyRing(keys);
}

export function parseEntry(entry: string, position: number): MasterKey {
  const colon = entry.indexOf(':');
  if (colon < 0) throw invalid(`entry ${position} is not "id:base64"`);
  const id = entry.slice(0, colon);
  const encoded = entry.slice(colon + 1);
  if (!KEY_ID_PATTERN.test(id)) throw invalid(`entry ${position} has an id that is not 1-64 of [A-Za-z0-9._-]`);
  const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (!key || key.length !== MASTER_KEY_BYTES || key.toString('base64') !== encoded) {
    throw invalid(`key "${id}" is not ${MASTER_KEY_BYTES} bytes of base64`);
  }
  return { id, key, check: keyCheck(key) };
}

function invalid(why: string): CasedropError {
  return new CasedropError(ErrorCode.ConfigInvalid, `${MASTER_KEYS_ENV}: ${why}`);
}
