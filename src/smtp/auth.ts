import { createHash, timingSafeEqual } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';

/**
 * Relay credentials from CASEDROP_SMTP_AUTH_USERS (`user:password,…`; the password may contain `:`
 * but not `,`). Only SHA-256 digests are kept, and a check compares the digests of every entry with
 * timingSafeEqual and no early exit, so neither a wrong user nor a wrong password answers faster.
 */
export type CheckCredentials = (user: string, password: string) => boolean;

interface Entry {
  user: Buffer;
  password: Buffer;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function parseAuthUsers(spec: string): Entry[] {
  const entries = spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((item) => {
      const colon = item.indexOf(':');
      if (colon <= 0 || colon === item.length - 1) {
        throw new CasedropError(ErrorCode.ConfigInvalid, 'CASEDROP_SMTP_AUTH_USERS: each entry must be user:password');
      }
      return { user: digest(item.slice(0, colon)), password: digest(item.slice(colon + 1)) };
    });
  if (entries.length === 0) throw new CasedropError(ErrorCode.ConfigInvalid, 'CASEDROP_SMTP_AUTH_USERS names no user');
  return entries;
}

export function credentialChecker(spec: string): CheckCredentials {
  const entries = parseAuthUsers(spec);
  return (user, password) => {
    const u = digest(user);
    const p = digest(password);
    let ok = false;
    for (const e of entries) {
      // both comparisons always run: `&&` would skip the password compare for a wrong user
      const match = Number(timingSafeEqual(e.user, u)) & Number(timingSafeEqual(e.password, p));
      ok = ok || match === 1;
    }
    return ok;
  };
}
