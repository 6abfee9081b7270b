import { describe, expect, it } from 'vitest';
import { redisKey, redisKeyPatterns, redisKeysMarkdown, type RedisKeyName } from '../src/redis-keys.js';

describe('Redis keys', () => {
  it.each(Object.keys(redisKey) as RedisKeyName[])('%s is built exactly as its documented pattern says', (name) => {
    const { pattern } = redisKeyPatterns[name];
    // call the builder with the pattern's own placeholders: the result must be the pattern itself
    const placeholders = pattern.match(/<[A-Za-z]+>/g) ?? [];
    const build = redisKey[name] as (...args: string[]) => string;
    expect(build(...placeholders)).toBe(pattern);
  });

  it('lists every builder and the BullMQ queues, each with what it holds and when it goes away', () => {
    expect(Object.keys(redisKeyPatterns).sort()).toEqual([...Object.keys(redisKey), 'queues'].sort());
    expect(redisKeyPatterns.queues.pattern).toBe('<prefix>:{intake,notify,outbound,webhook}:*');
    const table = redisKeysMarkdown();
    for (const p of Object.values(redisKeyPatterns)) {
      expect(p.holds.length).toBeGreaterThan(10);
      expect(p.expires.length).toBeGreaterThan(4);
      expect(table).toContain(`| \`${p.pattern}\` |`);
    }
  });
});
