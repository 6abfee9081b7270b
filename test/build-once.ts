import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * The crash tests run src/ compiled, in child processes that die at a chosen step. They used to
 * compile it each for itself (five tsc runs per `npm run test:unit`); now it is compiled once per
 * run, here, into node_modules/.cache (inside the repository, so the output resolves
 * node_modules), and handed to them as `inject('testBuild')`. Not dist/: in the edit-test loop
 * (`npm run test:unit`, no build) dist/ may be older than src/.
 */
export default function setup(project: TestProject): () => void {
  const cacheDir = join(import.meta.dirname, '../node_modules/.cache');
  mkdirSync(cacheDir, { recursive: true });
  const build = mkdtempSync(join(cacheDir, 'casedrop-build-'));
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', build], { stdio: 'pipe' });
  } catch {
    // type errors elsewhere in the tree still emit JavaScript; a missing output fails the test that needs it
  }
  project.provide('testBuild', build);
  return () => rmSync(build, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    testBuild: string;
  }
}
