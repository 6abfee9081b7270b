import { afterAll, describe, expect, it } from 'vitest';
import { isContact, normaliseContact, RedisCaseContacts } from '../../src/cases/contacts.js';
import { createRedis } from '../../src/redis.js';
import { cliRunner } from '../helpers/cli.js';
import { testConfig } from '../helpers/env.js';

describe('contacts (pure)', () => {
  it('normalises addresses and @domains and refuses anything else', () => {
    expect(normaliseContact(' Ops@Customer.Example ')).toBe('ops@customer.example');
    expect(normaliseContact('@Customer.Example')).toBe('@customer.example');
    for (const bad of ['customer.example', 'a@', '@', 'a b@c.example', `${'a'.repeat(400)}@c.example`])
      expect(() => normaliseContact(bad)).toThrow(/neither an address/);
  });

  it('matches an address, its plus-addresses, and a whole domain (not its lookalikes)', () => {
    expect(isContact(['ops@customer.example'], '<OPS+case@Customer.example>')).toBe(true);
    expect(isContact(['ops@customer.example'], 'dev@customer.example')).toBe(false);
    expect(isContact(['@customer.example'], 'dev@customer.example')).toBe(true);
    expect(isContact(['@customer.example'], 'dev@evilcustomer.example')).toBe(false);
    expect(isContact(['@customer.example'], '')).toBe(false);
  });
});

describe('casedrop case contact add|list|remove', () => {
  const { config, cleanup } = testConfig();
  afterAll(cleanup);
  const run = cliRunner(config);

  it('keeps the contacts of a case in Redis next to it', async () => {
    expect((await run('case', 'contact', 'add', '612345678', 'ops@customer.example')).code).toBe(1); // no such case yet
    expect((await run('case', 'open', '612345678', '--owner', 'eng@example.com')).code).toBe(0);
    expect((await run('case', 'contact', 'add', '612345678', 'Ops@Customer.example')).out).toEqual(['ops@customer.example']);
    expect((await run('case', 'contact', 'add', '612345678', '@partner.example')).code).toBe(0);
    expect((await run('case', 'contact', 'add', '612345678', 'not-an-address')).code).toBe(2);
    expect((await run('case', 'contact', 'list', '612345678')).out).toEqual(['@partner.example', 'ops@customer.example']);
    expect((await run('case', 'contact', 'remove', '612345678', '@partner.example')).code).toBe(0);
    expect((await run('case', 'contact', 'remove', '612345678', '@partner.example')).code).toBe(1);
    const redis = createRedis(config, 'cli');
    try {
      expect(await new RedisCaseContacts(redis, config.redisPrefix, config.caseDigits).list('612345678')).toEqual(['ops@customer.example']);
    } finally {
      redis.disconnect();
    }
  });
});
