// Times verify() per format on a 20 MB attachment made by the real tool (not part of npm test):
//   npm run build && node bench/verify.mjs [path/to/dist ...]
// The optional dist directories let the same files be timed with other builds, e.g. an older commit
// checked out and built elsewhere (`git worktree add /tmp/old <commit> && (cd /tmp/old && npx tsc
// -p tsconfig.build.json)`), for before/after figures: with several, their runs alternate, so that
// each sees the same machine load, and one column is printed per build. Content is 20 MB of random bytes (so every
// archive is about 20 MB: compression finds nothing); the median of BENCH_VERIFY_RUNS (default 7)
// runs from a file on disk is printed, wall time and this process's CPU time (user + system; the
// steadier figure on a shared machine), with the verdict.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dists = (process.argv.length > 2 ? process.argv.slice(2) : ['dist']).map((dir) => resolve(dir));
const verifiers = [];
for (const dist of dists) verifiers.push((await import(pathToFileURL(join(dist, 'verify/index.js')).href)).verify);
const runs = Number(process.env.BENCH_VERIFY_RUNS ?? 7);
const pw = 'bench-password';
const work = mkdtempSync(join(tmpdir(), 'casedrop-bench-verify-'));
const gnupg = join(work, 'gnupg');
mkdirSync(gnupg, { mode: 0o700 });
const input = join(work, 'data.bin');
writeFileSync(input, randomBytes(20 * 1000 * 1000));

const quiet = { stdio: 'ignore', env: { ...process.env, GNUPGHOME: gnupg } };
const gpg = ['--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', pw];
const files = {
  'zip (7-Zip AES-256)': ['data.zip', ['7zz', 'a', '-tzip', '-mem=AES256', `-p${pw}`, 'data.zip', input]],
  '7z (AES-256)': ['data.7z', ['7zz', 'a', '-t7z', `-p${pw}`, 'data.7z', input]],
  '7z (AES-256, -mhe=on)': ['data-he.7z', ['7zz', 'a', '-t7z', '-mhe=on', `-p${pw}`, 'data-he.7z', input]],
  'openpgp (gpg -c)': ['data.gpg', ['gpg', ...gpg, '-c', '-o', 'data.gpg', input]],
  'openpgp (gpg -c -a)': ['data.asc', ['gpg', ...gpg, '-a', '-c', '-o', 'data.asc', input]],
  'openssl enc': ['data.enc', ['openssl', 'enc', '-aes-256-cbc', '-pbkdf2', '-pass', `pass:${pw}`, '-in', input, '-out', 'data.enc']],
  'openssl enc -a': ['data.b64', ['openssl', 'enc', '-aes-256-cbc', '-pbkdf2', '-a', '-pass', `pass:${pw}`, '-in', input, '-out', 'data.b64']],
};

console.log(`verify() on 20 MB files, median of ${runs} runs, builds: ${dists.join(', ')}`);
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(runs / 2)].toFixed(1).padStart(7);
};
for (const [label, [file, [command, ...args]]] of Object.entries(files)) {
  execFileSync(command, args, { ...quiet, cwd: work });
  const path = join(work, file);
  const wall = dists.map(() => []);
  const cpu = dists.map(() => []);
  const results = [];
  for (let i = 0; i < runs; i++) {
    for (const [k, verify] of verifiers.entries()) {
      const started = process.hrtime.bigint();
      const cpuBefore = process.cpuUsage();
      results[k] = await verify({ path });
      const used = process.cpuUsage(cpuBefore);
      wall[k].push(Number(process.hrtime.bigint() - started) / 1e6);
      cpu[k].push((used.user + used.system) / 1000);
    }
  }
  const mb = (statSync(path).size / 1e6).toFixed(1);
  const columns = dists.map((_, k) => `wall ${median(wall[k])} ms  cpu ${median(cpu[k])} ms  ${results[k].verdict} ${results[k].reason}`);
  console.log(`${label.padEnd(24)} ${mb.padStart(5)} MB  ${columns.join('  |  ')}`);
}
rmSync(work, { recursive: true, force: true });
