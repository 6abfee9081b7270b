import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown } from '../../src/config/load.js';
import { repliesMarkdown } from '../../src/smtp/replies.js';
import { renderPolicyTable } from '../../src/reasons/table.js';

/**
 * Tables in the README are generated from the source; this test fails when they drift.
 * `UPDATE_README=1 npx vitest run test/docs` rewrites them.
 */
export function section(readme: string, name: string): string {
  const m = readme.match(new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)<!-- ${name}:end -->`));
  if (!m) throw new Error(`README has no ${name} section`);
  return (m[1] ?? '').trim();
}

function replaceSection(readme: string, name: string, body: string): string {
  return readme.replace(new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`), `$1${body}\n$2`);
}

const generated: Record<string, () => string> = {
  config: configTableMarkdown,
  policy: renderPolicyTable,
  replies: repliesMarkdown,
};

describe('README', () => {
  let readme = readFileSync('README.md', 'utf8');
  if (process.env.UPDATE_README === '1') {
    for (const [name, make] of Object.entries(generated)) readme = replaceSection(readme, name, make());
    writeFileSync('README.md', readme);
  }

  it.each(Object.keys(generated))('%s table matches the source', (name) => {
    expect(section(readme, name)).toBe(generated[name]!().trim());
  });

  it('names the test command that .ci/run runs', () => {
    const ci = readFileSync('.ci/run', 'utf8');
    expect(readme).toContain('```sh\nnpm ci && npm test\n```');
    expect(ci).toMatch(/^npm ci && npm test$/m);
  });
});
