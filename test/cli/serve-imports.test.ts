import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

/**
 * `casedrop serve` is every door's long-running process: it must not carry the modules of the other
 * CLI commands (ssh2 comes in only through `case key`, BullMQ through `retention`/`spool`).
 * CommonJS packages show in the require cache once imported, so a child process tells which were.
 */
function packagesLoadedBy(args: string[]): string[] {
  const main = join(inject('testBuild'), 'cli/main.js');
  const script = `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(main)});
    await main(['node', 'casedrop', ...${JSON.stringify(args)}]);
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(['ssh2', 'bullmq'].filter((p) => cache.some((k) => k.includes('/node_modules/' + p + '/')))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, CASEDROP_LOG_LEVEL: 'silent' },
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('casedrop serve loads only its own command', () => {
  it('serve does not import the other commands (ssh2, BullMQ)', () => {
    expect(packagesLoadedBy(['serve', '--help'])).toEqual([]);
  });

  it('any other command line registers every command', () => {
    expect(packagesLoadedBy(['--help'])).toEqual(['ssh2', 'bullmq']);
  });
});
