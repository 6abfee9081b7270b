import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CasedropError, ErrorCode } from '../errors.js';
import { channels, type Channel } from '../intake/types.js';

/**
 * Upload tokens, the pure part: the secret's shape, its hash, and the decision whether a stored
 * token lets a request in. I/O (Redis) is in tokens.ts.
 *
 * A token is `cdu_` + 32 base64url characters (192 random bits): the prefix lets secret scanners
 * (GitHub's, trufflehog) recognise a leaked one; only its SHA-256 is stored. A plain hash is
 * enough: the secret has full entropy, so there is nothing for a slow hash to protect.
 */
export const TOKEN_PREFIX = 'cdu_';
const SECRET_BYTES = 24;
const TOKEN_PATTERN = /^cdu_[A-Za-z0-9_-]{32}$/;

export interface UploadToken {
  id: string;
  caseNumber: string;
  label: string;
  createdAt: string;
  expiresAt: string;
  channels: Channel[];
  /** bytes this token may upload in total; undefined: only the per-file and per-case caps apply */
  maxBytes?: number;
  lastUsedAt?: string;
  bytesUploaded: number;
}

export interface StoredToken extends UploadToken {
  /** hex SHA-256 of the secret */
  hash: string;
}

export function newSecret(): string {
  return TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function looksLikeToken(secret: string): boolean {
  return secret.length === TOKEN_PREFIX.length + 32 && TOKEN_PATTERN.test(secret);
}

/** Constant time whatever the secret: every stored hash is compared, all the way. */
export function findByHash(tokens: readonly StoredToken[], secret: string): StoredToken | undefined {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  let found: StoredToken | undefined;
  for (const t of tokens) {
    const stored = Buffer.from(t.hash, 'hex');
    if (stored.length === presented.length && timingSafeEqual(stored, presented) && !found) found = t;
  }
  return found;
}

export type TokenRefusal = 'expired' | 'channel' | 'quota';

/** Whether a token that matched may upload `bytes` more over `channel` now. The case's state is checked apart. */
export function tokenAllows(t: UploadToken, channel: Channel, now: Date, bytes = 0): TokenRefusal | undefined {
  if (Date.parse(t.expiresAt) <= now.getTime()) return 'expired';
  if (!t.channels.includes(channel)) return 'channel';
  if (t.maxBytes !== undefined && t.bytesUploaded + bytes > t.maxBytes) return 'quota';
  return undefined;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `72d`, `12h`, `90m`, `3600s`, `2w` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!m) throw new CasedropError(ErrorCode.UsageInvalid, `"${text.slice(0, 40)}" is not a duration: a number and s, m, h, d or w, e.g. 72d`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function parseChannels(text: string): Channel[] {
  const wanted = text
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  const bad = wanted.filter((c) => !(channels as readonly string[]).includes(c) || c === 'email');
  if (wanted.length === 0 || bad.length > 0)
    throw new CasedropError(ErrorCode.UsageInvalid, `--channels takes a comma-separated list of ${channels.filter((c) => c !== 'email').join(', ')}`);
  return [...new Set(wanted)] as Channel[];
}

/** Upload channels a token opens by default: every upload door (the mail door needs no token). */
export const DEFAULT_TOKEN_CHANNELS: Channel[] = channels.filter((c) => c !== 'email');
