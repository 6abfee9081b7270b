import type { Redis } from 'ioredis';
import { CasedropError, ErrorCode } from '../errors.js';
import { redisKey } from '../redis-keys.js';
import { assertCaseNumber } from './number.js';

/**
 * The senders a case knows: addresses (`ops@customer.example`) or whole domains (`@customer.example`).
 * When a case has any, the SMTP door refuses other senders for it; a known contact gets replies
 * even when its mail is not authenticated (the engineer vouched for the address).
 *
 * Kept behind this narrow interface so the storage can move (today a Redis set next to the case hash).
 */
export interface CaseContacts {
  add(caseNumber: string, entry: string): Promise<string>;
  remove(caseNumber: string, entry: string): Promise<boolean>;
  list(caseNumber: string): Promise<string[]>;
}

const ADDRESS = /^[^\s@<>,"]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;
const DOMAIN = /^@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

/** `Ops@Customer.Example` → `ops@customer.example`; `@Customer.Example` → `@customer.example`. */
export function normaliseContact(entry: string): string {
  const e = entry.trim().toLowerCase();
  if (e.length <= 320 && (DOMAIN.test(e) || ADDRESS.test(e))) return e;
  throw new CasedropError(ErrorCode.UsageInvalid, `"${entry.slice(0, 100)}" is neither an address (name@domain) nor a domain (@domain)`);
}

/** Pure: is `address` one of `contacts`? A plus-address counts as its base address. */
export function isContact(contacts: readonly string[], address: string): boolean {
  const a = address
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .toLowerCase();
  const at = a.lastIndexOf('@');
  if (at <= 0) return false;
  const domain = a.slice(at);
  const base = withoutTag(a.slice(0, at)) + domain;
  return contacts.some((c) => (c.startsWith('@') ? c === domain : c === a || c === base));
}

export class RedisCaseContacts implements CaseContacts {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly digits: number,
  ) {}

  async add(caseNumber: string, entry: string): Promise<string> {
    const e = normaliseContact(entry);
    await this.redis.sadd(this.key(caseNumber), e);
    return e;
  }

  async remove(caseNumber: string, entry: string): Promise<boolean> {
    return (await this.redis.srem(this.key(caseNumber), normaliseContact(entry))) === 1;
  }

  async list(caseNumber: string): Promise<string[]> {
    return (await this.redis.smembers(this.key(caseNumber))).sort();
  }

  private key(caseNumber: string): string {
    assertCaseNumber(caseNumber, this.digits);
    return redisKey.caseContacts(this.prefix, caseNumber);
  }
}

/** `ops+case123` → `ops`: a plus-address is its base address. */
export function withoutTag(local: string): string {
  const plus = local.indexOf('+');
  return plus < 0 ? local : local.slice(0, plus);
}
