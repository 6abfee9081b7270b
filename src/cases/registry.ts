import type { Redis } from 'ioredis';
import { CasedropError, ErrorCode } from '../errors.js';
import { redisKey } from '../redis-keys.js';
import { assertCaseNumber } from './number.js';
import type { Case, CaseRegistry, CaseState } from './types.js';

/**
 * Cases as Redis hashes (`<prefix>:case:<number>`): one HGETALL per look-up, which the SMTP door does
 * for every message. A set per state keeps `list --state` cheap without scanning the keyspace.
 */
export class RedisCaseRegistry implements CaseRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly digits: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(number: string): Promise<Case | null> {
    assertCaseNumber(number, this.digits);
    const h = await this.redis.hgetall(this.caseKey(number));
    return h.number ? toCase(h) : null;
  }

  async open(number: string, owner: string): Promise<Case> {
    assertCaseNumber(number, this.digits);
    if (!/^[^\s@]+@[^\s@]+$/.test(owner)) throw new CasedropError(ErrorCode.UsageInvalid, `"${owner}" is not an email address`);
    const c: Case = { number, state: 'open', owner, createdAt: this.now().toISOString() };
    // HSETNX on the number field makes concurrent opens of one case agree on a single winner
    const created = await this.redis.hsetnx(this.caseKey(number), 'number', number);
    if (created === 0) throw new CasedropError(ErrorCode.CaseExists, `case ${number} already exists`);
    await this.redis.multi().hset(this.caseKey(number), { ...c }).sadd(this.stateKey('open'), number).exec();
    return c;
  }

  close(number: string): Promise<Case> {
    return this.transition(number, 'closed');
  }

  reopen(number: string): Promise<Case> {
    return this.transition(number, 'open');
  }

  async list(state?: CaseState): Promise<Case[]> {
    const numbers = state
      ? await this.redis.smembers(this.stateKey(state))
      : [...(await this.redis.smembers(this.stateKey('open'))), ...(await this.redis.smembers(this.stateKey('closed')))];
    const cases = await Promise.all(numbers.sort().map((n) => this.get(n)));
    return cases.filter((c): c is Case => c !== null);
  }

  private async transition(number: string, to: CaseState): Promise<Case> {
    const current = await this.get(number);
    if (!current) throw new CasedropError(ErrorCode.CaseNotFound, `case ${number} does not exist`);
    const from: CaseState = to === 'open' ? 'closed' : 'open';
    const tx = this.redis.multi().hset(this.caseKey(number), 'state', to).smove(this.stateKey(from), this.stateKey(to), number);
    if (to === 'closed') tx.hset(this.caseKey(number), 'closedAt', this.now().toISOString());
    else tx.hdel(this.caseKey(number), 'closedAt');
    await tx.exec();
    return (await this.get(number)) as Case;
  }

  private caseKey(number: string): string {
    return redisKey.case(this.prefix, number);
  }

  private stateKey(state: CaseState): string {
    return redisKey.casesInState(this.prefix, state);
  }
}

function toCase(h: Record<string, string>): Case {
  const c: Case = { number: h.number ?? '', state: h.state === 'closed' ? 'closed' : 'open', owner: h.owner ?? '', createdAt: h.createdAt ?? '' };
  if (h.closedAt) c.closedAt = h.closedAt;
  return c;
}
