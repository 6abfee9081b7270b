import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

/**
 * Each role's process carries only what it runs: the worker's main thread hands parsing and
 * judging to its parse threads, and an SMTP door under the default `record` policy never checks
 * senders itself. CommonJS packages show in the require cache once imported, so a child process
 * that imports a role's modules tells which were loaded.
 */
const WATCHED = ['mailparser', 'mailauth'];

function packagesLoadedBy(modules: string[]): string[] {
  const build = inject('testBuild');
  const script = `
    import { createRequire } from 'node:module';
    for (const m of ${JSON.stringify(modules.map((m) => join(build, m)))}) await import(m);
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(${JSON.stringify(WATCHED)}.filter((p) => cache.some((k) => k.includes('/node_modules/' + p + '/')))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('modules each role loads', () => {
  it('the worker main thread does not load the parser (its parse threads do)', () => {
    expect(packagesLoadedBy(['pipeline/worker.js', 'pipeline/intake-options.js'])).toEqual(['mailauth']);
  });

  it('the SMTP door loads neither the parser nor mailauth', () => {
    expect(packagesLoadedBy(['smtp/index.js'])).toEqual([]);
  });

  it('the parse thread modules do load the parser (the check can see it)', () => {
    expect(packagesLoadedBy(['pipeline/analyse.js'])).toEqual(['mailparser']);
  });
});
