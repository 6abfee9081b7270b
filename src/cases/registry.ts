import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { DurableRecords } from '../records/durable.js';
import type { ObjectStore } from '../store/types.js';
import type { RecordCollection } from '../records/types.js';
import { assertCaseNumber } from './number.js';
import type { Case, CaseRegistry, CaseState } from './types.js';

/**
 * Cases as durable records (src/records/): the encrypted store under the data dir holds each case,
 * Redis the index the SMTP door reads for every message. A Redis restarted empty therefore
 * forgets no case: a look-up that misses the index finds the case in the store and re-indexes it.
 */
export class DurableCaseRegistry implements CaseRegistry {
  private readonly cases: RecordCollection<Case>;

  constructor(
    records: DurableRecords,
    private readonly digits: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.cases = records.collection<Case>('case', parseCase, (n) => new CasedropError(ErrorCode.CaseExists, `case ${n} already exists`));
  }

  async get(number: string): Promise<Case | null> {
    assertCaseNumber(number, this.digits);
    return (await this.cases.get(number))?.value ?? null;
  }

  async open(number: string, owner: string): Promise<Case> {
    assertCaseNumber(number, this.digits);
    if (!/^[^\s@]+@[^\s@]+$/.test(owner)) throw new CasedropError(ErrorCode.UsageInvalid, `"${owner}" is not an email address`);
    return (await this.cases.create(number, { number, state: 'open', owner, createdAt: this.now().toISOString() })).value;
  }

  close(number: string): Promise<Case> {
    return this.transition(number, (c) => ({ ...c, state: 'closed', closedAt: this.now().toISOString() }));
  }

  reopen(number: string): Promise<Case> {
    return this.transition(number, ({ closedAt: _gone, ...c }) => ({ ...c, state: 'open' }));
  }

  /** From the store, the truth: an operator's listing must not depend on the index being complete. */
  async list(state?: CaseState): Promise<Case[]> {
    const all: Case[] = [];
    for await (const record of this.cases.scan()) if (!state || record.value.state === state) all.push(record.value);
    return all.sort((a, b) => a.number.localeCompare(b.number));
  }

  private async transition(number: string, change: (c: Case) => Case): Promise<Case> {
    assertCaseNumber(number, this.digits);
    const updated = await this.cases.update(number, change);
    if (!updated) throw new CasedropError(ErrorCode.CaseNotFound, `case ${number} does not exist`);
    return updated.value;
  }
}

function parseCase(value: unknown): Case {
  const v = value as Partial<Case> | null;
  if (!v || typeof v.number !== 'string' || typeof v.owner !== 'string' || typeof v.createdAt !== 'string') throw new Error('not a case record');
  const c: Case = { number: v.number, state: v.state === 'closed' ? 'closed' : 'open', owner: v.owner, createdAt: v.createdAt };
  if (typeof v.closedAt === 'string') c.closedAt = v.closedAt;
  return c;
}

/** The registry with its own record facility (a process that also keeps other records shares one DurableRecords instead). */
export function caseRegistry(
  store: ObjectStore,
  redis: Redis,
  config: Pick<Config, 'redisPrefix' | 'caseDigits'>,
  logger: Logger,
  now?: () => Date,
): DurableCaseRegistry {
  return new DurableCaseRegistry(new DurableRecords(store, redis, config.redisPrefix, logger), config.caseDigits, now);
}
