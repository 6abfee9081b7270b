#!/usr/bin/env node
// npm run bench:sftp — casedrop's SFTP door against OpenSSH's sftp-server (a private sshd on a free
// loopback port, what an operator would run instead), the same file uploaded by the same OpenSSH
// sftp client, alternating runs. Reports MiB/s of each, their ratio and casedrop's peak RSS.
// BENCH_SFTP_MIB (default 1024) sets the file size, BENCH_SFTP_RUNS (default 2) the runs per system,
// BENCH_SFTP_NODE_FLAGS extra node flags for casedrop (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
// BENCH_SFTP_LOG a file to keep casedrop's log in (e.g. with `--trace-gc`), BENCH_SFTP_ENV extra
// environment for casedrop (`NAME=value …`), BENCH_SFTP_CIPHER the cipher the client asks for.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { casedropEnv, cliPath, newMasterKeys, repoRoot, runCli, serviceNodeFlags } from './lib/casedrop.mjs';
import { freePort, procStats, spawnLogged, stopChild, threadCpuSeconds, waitForPort } from './lib/procs.mjs';
import { startRedis } from './lib/redis.mjs';

const MiB = 1 << 20;
const SIZE = Number(process.env.BENCH_SFTP_MIB ?? 1024) * MiB;
const RUNS = Number(process.env.BENCH_SFTP_RUNS ?? 2);
const CASE = '612345678';
const log = (line) => process.stderr.write(`bench:sftp: ${line}\n`);
const SSH = [
  ...(process.env.BENCH_SFTP_CIPHER ? ['-c', process.env.BENCH_SFTP_CIPHER] : []),
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'LogLevel=ERROR',
  '-o',
  'BatchMode=no',
];

async function writeFile(path, size) {
  const out = createWriteStream(path);
  for (let left = size; left > 0; left -= MiB) if (!out.write(randomBytes(Math.min(MiB, left)))) await new Promise((r) => out.once('drain', r));
  await new Promise((r) => out.end(r));
}

function timed(cmd, args, env, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-500)}`))));
    child.stdin.end(args.includes('-b') ? 'put payload.bin\n' : '');
  });
}

/** The event loop, libuv's pool (crypto jobs, fs), V8's helpers (GC), anything else. */
const threadKind = (comm) => (/^libuv/.test(comm) ? 'threadpool' : /^V8/.test(comm) ? 'v8' : 'other');
const cpuSeconds = (pid) => procStats(pid)?.cpuSeconds ?? 0;

async function startCasedropSftp(root) {
  const redis = await startRedis(join(root, 'redis'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const env = {
    ...casedropEnv({ dataDir, redisUrl: redis.url, smtpPort: await freePort(), masterKeys: newMasterKeys() }),
    CASEDROP_SFTP_PORT: String(port),
    CASEDROP_UPLOAD_MAX_CASE_BYTES: String(2 ** 50),
    // process-wide settings to try without changing casedrop, e.g. `MALLOC_ARENA_MAX=2`
    ...Object.fromEntries(
      (process.env.BENCH_SFTP_ENV ?? '')
        .split(' ')
        .filter(Boolean)
        .map((kv) => kv.split(/=(.*)/s).slice(0, 2)),
    ),
  };
  await runCli(env, ['case', 'open', CASE, '--owner', 'eng@example.com']);
  const token = /cdu_[A-Za-z0-9_-]{32}/.exec(await runCli(env, ['case', 'token', 'create', CASE, '--label', 'bench']))[0];
  const extraFlags = process.env.BENCH_SFTP_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawnLogged(process.execPath, [...serviceNodeFlags, ...extraFlags, cliPath, 'serve', '--role', 'sftp'], {
    env,
    cwd: repoRoot,
    logFile: join(root, 'casedrop.log'),
  });
  await waitForPort(port, { timeoutMs: 30_000, child });
  return {
    name: 'casedrop',
    pid: child.pid,
    upload: (dir) => timed('sshpass', ['-e', 'sftp', ...SSH, '-P', String(port), '-b', '-', `${CASE}@127.0.0.1`], { SSHPASS: token }, dir),
    stop: async () => {
      await stopChild(child, 10_000);
      await redis.stop();
    },
  };
}

async function startOpenSsh(root) {
  const dir = join(root, 'sshd');
  mkdirSync(join(dir, 'in'), { recursive: true });
  chmodSync(dir, 0o700);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      `ChrootDirectory none`,
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  const child = spawnLogged('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { logFile: join(dir, 'sshd.log') });
  await waitForPort(port, { timeoutMs: 15_000, child });
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  return {
    name: 'openssh',
    pid: child.pid,
    upload: (cwd) => timed('sftp', [...SSH, '-i', join(dir, 'client'), '-P', String(port), '-b', '-', `${user}@127.0.0.1:${join(dir, 'in')}/`], {}, cwd),
    stop: () => stopChild(child, 5_000),
  };
}

const root = mkdtempSync(join(tmpdir(), 'casedrop-bench-sftp-'));
const systems = [];
try {
  const client = join(root, 'client');
  mkdirSync(client);
  log(`writing a ${SIZE / MiB} MiB payload`);
  await writeFile(join(client, 'payload.bin'), SIZE);
  systems.push(await startCasedropSftp(join(root, 'casedrop')), await startOpenSsh(root));
  const startRssMiB = (procStats(systems[0].pid)?.rssKiB ?? 0) / 1024;
  log(`casedrop RSS before the first upload: ${startRssMiB.toFixed(1)} MiB`);
  const results = { casedrop: [], openssh: [] };
  const cpuPerGiB = [];
  const threadsPerGiB = [];
  for (let run = 0; run < RUNS; run++) {
    for (const sys of run % 2 ? [...systems].reverse() : systems) {
      const cpuBefore = sys.name === 'casedrop' ? cpuSeconds(sys.pid) : 0;
      const threadsBefore = sys.name === 'casedrop' ? threadCpuSeconds(sys.pid, threadKind) : {};
      const ms = await sys.upload(client);
      if (sys.name === 'casedrop') {
        const perGiB = (s) => (s * 1024 * MiB) / SIZE;
        cpuPerGiB.push(perGiB(cpuSeconds(sys.pid) - cpuBefore));
        const after = threadCpuSeconds(sys.pid, threadKind);
        threadsPerGiB.push(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, +perGiB(v - (threadsBefore[k] ?? 0)).toFixed(2)])));
      }
      const mibs = SIZE / MiB / (ms / 1000);
      results[sys.name].push(mibs);
      log(`${sys.name} run ${run + 1}: ${mibs.toFixed(1)} MiB/s`);
    }
  }
  const best = (xs) => Math.max(...xs);
  const casedropPeak = (procStats(systems[0].pid)?.peakRssKiB ?? 0) / 1024;
  const ratio = best(results.casedrop) / best(results.openssh);
  const summary = {
    fileMiB: SIZE / MiB,
    runs: RUNS,
    casedropMiBs: results.casedrop.map((x) => +x.toFixed(1)),
    opensshMiBs: results.openssh.map((x) => +x.toFixed(1)),
    ratio: +ratio.toFixed(2),
    casedropPeakRssMiB: +casedropPeak.toFixed(1),
    // CPU time of the casedrop process per GiB uploaded: comparable across runs whatever the machine's load
    casedropCpuSecondsPerGiB: cpuPerGiB.map((x) => +x.toFixed(2)),
    casedropCpuSecondsPerGiBByThread: threadsPerGiB,
    targets: { ratio: 0.7, peakRssMiB: 120 },
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  for (const s of systems) await s.stop().catch(() => undefined);
  if (process.env.BENCH_SFTP_LOG) copyFileSync(join(root, 'casedrop', 'casedrop.log'), process.env.BENCH_SFTP_LOG);
  rmSync(root, { recursive: true, force: true });
}
