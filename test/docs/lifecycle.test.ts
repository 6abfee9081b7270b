import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redisKeysMarkdown } from '../../src/redis-keys.js';

/** docs/lifecycle.md lists every Redis key pattern from src/redis-keys.ts; UPDATE_README=1 rewrites it. */
describe('docs/lifecycle.md', () => {
  let doc = readFileSync('docs/lifecycle.md', 'utf8');
  if (process.env.UPDATE_README === '1') {
    doc = doc.replace(/(<!-- redis-keys:start -->\n)[\s\S]*?(<!-- redis-keys:end -->)/, `$1${redisKeysMarkdown()}\n$2`);
    writeFileSync('docs/lifecycle.md', doc);
  }

  it('lists every Redis key pattern, as src/redis-keys.ts builds them', () => {
    const section = /<!-- redis-keys:start -->\n([\s\S]*?)<!-- redis-keys:end -->/.exec(doc)?.[1] ?? '';
    expect(section.trim()).toBe(redisKeysMarkdown().trim());
  });

  it('is linked from the README', () => {
    expect(readFileSync('README.md', 'utf8')).toContain('](docs/lifecycle.md)');
  });
});
