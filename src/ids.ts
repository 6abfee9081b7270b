import { randomBytes } from 'node:crypto';

/**
 * Time-ordered, URL- and filename-safe ids (like a ULID): 10 chars of milliseconds, 16 of randomness,
 * so spool listings sort by arrival and two hosts never collide.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(16);
  let tail = '';
  for (const b of rnd) tail += ALPHABET[b % 32];
  return time + tail;
}

/** The creation time (ms) an id from newId carries; NaN for anything else. */
export function idTime(id: string): number {
  if (id.length < 10) return Number.NaN;
  let t = 0;
  for (const ch of id.slice(0, 10)) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return Number.NaN;
    t = t * 32 + v;
  }
  return t;
}
