import { describe, expect, it } from 'vitest';
import { cachedResolver } from '../../src/auth/resolver.js';

/**
 * A burst of mail from one sender asks the same SPF and DMARC questions for every message: the
 * resolver asks the network once per question and TTL, shares a query in flight, and never keeps a
 * temporary failure.
 */
function fakeDns(answers: Record<string, () => Promise<unknown>>) {
  const asked: string[] = [];
  const resolve = (name: string, rrtype: string): Promise<unknown> => {
    asked.push(`${rrtype} ${name}`);
    const answer = answers[`${rrtype} ${name}`];
    return answer ? answer() : Promise.reject(Object.assign(new Error('no such name'), { code: 'ENOTFOUND' }));
  };
  return { asked, resolve };
}

const txt = (value: string) => () => Promise.resolve([[value]]);
const code = (err: unknown) => (err as { code?: string }).code;

describe('cachedResolver', () => {
  it('asks once for questions asked at once and again after the TTL', async () => {
    let clock = 0;
    const dns = fakeDns({ 'TXT example.com': txt('v=spf1 -all') });
    const resolve = cachedResolver(dns.resolve, 1000, () => clock);
    const answers = await Promise.all(Array.from({ length: 16 }, () => resolve('example.com', 'TXT')));
    expect(answers.every((a) => JSON.stringify(a) === '[["v=spf1 -all"]]')).toBe(true);
    await resolve('EXAMPLE.com', 'TXT');
    expect(dns.asked).toEqual(['TXT example.com']);
    clock = 1001;
    await resolve('example.com', 'TXT');
    expect(dns.asked).toEqual(['TXT example.com', 'TXT example.com']);
  });

  it('keeps "no such name" but asks again after a timeout', async () => {
    let calls = 0;
    const dns = fakeDns({
      'TXT slow.test': () => (++calls === 1 ? Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })) : txt('v=spf1 -all')()),
    });
    const resolve = cachedResolver(dns.resolve, 1000, () => 0);
    for (let i = 0; i < 2; i++) expect(code(await resolve('_dmarc.example.com', 'TXT').catch((e: unknown) => e))).toBe('ENOTFOUND');
    expect(code(await resolve('slow.test', 'TXT').catch((e: unknown) => e))).toBe('ETIMEOUT');
    expect(await resolve('slow.test', 'TXT')).toEqual([['v=spf1 -all']]);
    expect(dns.asked).toEqual(['TXT _dmarc.example.com', 'TXT slow.test', 'TXT slow.test']);
  });

  it('gives every caller its own copy of an answer', async () => {
    const dns = fakeDns({ 'TXT example.com': txt('v=spf1 -all') });
    const resolve = cachedResolver(dns.resolve, 1000, () => 0);
    const first = (await resolve('example.com', 'TXT')) as string[][];
    first[0]![0] = 'changed';
    expect(await resolve('example.com', 'TXT')).toEqual([['v=spf1 -all']]);
  });

  it('forgets the oldest answers past its size', async () => {
    const dns = fakeDns({ 'TXT a.test': txt('a'), 'TXT b.test': txt('b') });
    const resolve = cachedResolver(dns.resolve, 1000, () => 0, 1);
    await resolve('a.test', 'TXT');
    await resolve('b.test', 'TXT');
    await resolve('a.test', 'TXT');
    expect(dns.asked).toEqual(['TXT a.test', 'TXT b.test', 'TXT a.test']);
  });
});
