import { randomBytes } from 'node:crypto';
import { MASTER_KEY_BYTES } from './ring.js';

/** `k<yyyymmdd>-<hex>`: sorts by creation day, and two keys made the same day still differ. */
export function newKeyId(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `k${day}-${randomBytes(3).toString('hex')}`;
}

/** A fresh master key in the `CASEDROP_MASTER_KEYS` syntax: `id:base64(32 bytes)`. */
export function generateMasterKey(now = new Date()): string {
  return `${newKeyId(now)}:${randomBytes(MASTER_KEY_BYTES).toString('base64')}`;
}
