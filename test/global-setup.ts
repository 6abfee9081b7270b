import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * Tests that run casedrop as a child process (signals, kill -9, log capture) use the compiled
 * dist/. `npm test` builds it first (pretest); a direct `npx vitest run` builds it here when missing.
 */
export default function setup(): void {
  if (!existsSync('dist/cli/main.js')) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
