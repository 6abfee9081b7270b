#!/usr/bin/env node
// npm run bench (second part): the upload drive against nginx receiving the same PUTs (Debian's nginx
// with WebDAV PUT into a directory: what an operator would run instead). Loads, each with curl:
//   big:  1 × UPLOAD_BENCH_BIG_MIB (default 2048) MiB over one connection
//   many: 50 × 100 MiB over 4 connections (UPLOAD_BENCH_MANY / UPLOAD_BENCH_MANY_MIB to change)
// UPLOAD_BENCH_ROUNDS (default 3) runs per load and system, alternating which goes first, each on a
// fresh instance. Reports per load the median MiB/s of each, their ratio, the casedrop process's
// CPU seconds (user + system, every thread) per GiB received, and the peak RSS (VmHWM) of the casedrop
// process (the highest of the rounds). casedrop encrypts (AES-256-GCM), hashes (SHA-256), verifies and
// signs; nginx only writes. UPLOAD_BENCH_NODE_FLAGS: extra node flags for casedrop (e.g.
// `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { envFromSpec, runCli, startCasedrop } from './lib/casedrop.mjs';
import { freePort, procStats, sleep, threadCpuSeconds, waitForPort } from './lib/procs.mjs';
import { median } from './lib/stats.mjs';
import { startRedis } from './lib/redis.mjs';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const CASE = '612345678';
const BIG_MIB = Number(process.env.UPLOAD_BENCH_BIG_MIB ?? 2048);
const MANY = Number(process.env.UPLOAD_BENCH_MANY ?? 50);
const MANY_MIB = Number(process.env.UPLOAD_BENCH_MANY_MIB ?? 100);
const ROUNDS = Number(process.env.UPLOAD_BENCH_ROUNDS ?? 3);
const NODE_FLAGS = (process.env.UPLOAD_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
/** `big`, `many` or both; `nginx`, `casedrop` or both: a quicker look at one side while tuning */
const LOADS = (process.env.UPLOAD_BENCH_LOADS ?? 'big,many').split(',');
const SYSTEMS = (process.env.UPLOAD_BENCH_SYSTEMS ?? 'nginx,casedrop').split(',');
const CONNECTIONS = 4;
const log = (line) => process.stderr.write(`bench-upload: ${line}\n`);

function makeFile(path, mib) {
  const fd = openSync(path, 'w');
  const block = randomBytes(MiB);
  for (let i = 0; i < mib; i++) {
    block[0] = i & 0xff;
    writeSync(fd, block);
  }
  closeSync(fd);
}

async function putAll(urlFor, file, count, connections, auth) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const args = ['-sS', '-f', '--max-time', '1800', '-o', '/dev/null', '-T', file, ...(auth ? ['--user', auth] : []), urlFor(i)];
      await run('curl', args, { maxBuffer: 1 << 20 });
    }
  };
  const started = performance.now();
  const clientBefore = procStats(process.pid).childCpuSeconds;
  await Promise.all(Array.from({ length: Math.min(connections, count) }, worker));
  // every curl has been waited for: their CPU is in this process's cutime + cstime
  return { ms: performance.now() - started, clientCpu: procStats(process.pid).childCpuSeconds - clientBefore };
}

/** CPU seconds per GiB, two decimals */
const perGiB = (seconds, mib) => +((seconds * 1024) / mib).toFixed(2);
const cpuOf = (pids) => pids.reduce((sum, pid) => sum + (procStats(pid)?.cpuSeconds ?? 0), 0);

function peakWatcher(pids) {
  let peak = 0;
  const timer = setInterval(() => {
    for (const pid of pids()) peak = Math.max(peak, procStats(pid)?.peakRssKiB ?? 0);
  }, 200);
  return () => {
    clearInterval(timer);
    for (const pid of pids()) peak = Math.max(peak, procStats(pid)?.peakRssKiB ?? 0);
    return peak;
  };
}

async function startNginx(root) {
  const port = await freePort();
  const dav = join(root, 'dav');
  for (const d of [dav, join(root, 'body'), join(root, 'logs')]) {
    mkdirSync(d, { recursive: true });
    execFileSync('chmod', ['777', d]);
  }
  const conf = join(root, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/logs/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path ${root}/body; client_max_body_size 0; sendfile on;
  server { listen 127.0.0.1:${port}; location / { root ${dav}; dav_methods PUT; create_full_put_path on; dav_access user:rw; } } }
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', root], { stdio: 'ignore' });
  await waitForPort(port, { timeoutMs: 15_000 });
  return {
    port,
    dav,
    child,
    stop: () => {
      child.kill('SIGQUIT');
      return new Promise((r) => child.once('exit', r));
    },
  };
}

function nginxPids(child) {
  try {
    return [
      child.pid,
      ...execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number),
    ];
  } catch {
    return [child.pid];
  }
}

/** One load into a fresh nginx: MiB/s and its peak RSS. */
async function runNginx(root, load) {
  const ngDir = mkdtempSync(join(root, 'nginx-'));
  execFileSync('chmod', ['755', ngDir]);
  const nginx = await startNginx(ngDir);
  const stopPeak = peakWatcher(() => nginxPids(nginx.child));
  const mibTotal = load.mib * load.count;
  let put, cpu;
  try {
    const pids = nginxPids(nginx.child);
    const cpuBefore = cpuOf(pids);
    put = await putAll((i) => `http://127.0.0.1:${nginx.port}/f${i}.bin`, load.file, load.count, load.connections);
    cpu = cpuOf(pids) - cpuBefore;
  } finally {
    await nginx.stop();
    rmSync(ngDir, { recursive: true, force: true });
  }
  return {
    mibps: +(mibTotal / (put.ms / 1000)).toFixed(1),
    cpuSecondsPerGiB: perGiB(cpu, mibTotal),
    curlCpuSecondsPerGiB: perGiB(put.clientCpu, mibTotal),
    peakRssMiB: +(stopPeak() / 1024).toFixed(1),
  };
}

/** One load into a fresh casedrop upload role (own Redis, data dir, case and token): MiB/s, CPU s per GiB, peak RSS. */
async function runCasedrop(root, load) {
  const cdDir = mkdtempSync(join(root, 'casedrop-'));
  const redis = await startRedis(join(cdDir, 'redis'));
  const cd = await startCasedrop(cdDir, {
    redisUrl: redis.url,
    prefix: 'bench-upload',
    roles: ['upload'],
    overrides: { CASEDROP_LOG_LEVEL: 'info', ...envFromSpec(process.env.UPLOAD_BENCH_ENV) },
    roleNodeFlags: { upload: NODE_FLAGS },
  });
  try {
    await runCli(cd.env, ['case', 'open', CASE, '--owner', 'eng@example.com']);
    const token = (await runCli(cd.env, ['case', 'token', 'create', CASE, '--label', 'bench'])).trim();
    const { uploadPort: port, pid } = cd.processes[0];
    await waitForPort(port, { timeoutMs: 15_000 });
    const stopPeak = peakWatcher(() => [pid]);
    const cpuBefore = procStats(pid).cpuSeconds;
    const threadsBefore = threadCpuSeconds(pid);
    const put = await putAll((i) => `http://127.0.0.1:${port}/home/f${i}.bin`, load.file, load.count, load.connections, `${CASE}:${token}`);
    const cpu = procStats(pid).cpuSeconds - cpuBefore;
    const { main = 0, ...others } = threadCpuSeconds(pid);
    const { main: mainBefore = 0, ...othersBefore } = threadsBefore;
    const mainCpu = main - mainBefore;
    const mibTotal = load.mib * load.count;
    return {
      mibps: +(mibTotal / (put.ms / 1000)).toFixed(1),
      cpuSecondsPerGiB: perGiB(cpu, mibTotal),
      mainCpuSecondsPerGiB: perGiB(mainCpu, mibTotal),
      curlCpuSecondsPerGiB: perGiB(put.clientCpu, mibTotal),
      // threads that ended during the load are missing here (they count in the total above)
      threadsCpuSecondsPerGiB: Object.fromEntries(Object.entries(others).map(([name, s]) => [name, perGiB(s - (othersBefore[name] ?? 0), mibTotal)])),
      peakRssMiB: +(stopPeak() / 1024).toFixed(1),
    };
  } finally {
    await cd.stop();
    await redis.stop();
    if (!process.env.BENCH_KEEP) rmSync(cdDir, { recursive: true, force: true });
  }
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'casedrop-bench-upload-'));
  // nginx's worker runs as nobody: it must reach its directories under here
  execFileSync('chmod', ['755', root]);
  const results = [];
  try {
    const big = join(root, 'big.bin');
    const many = join(root, 'many.bin');
    makeFile(big, BIG_MIB);
    makeFile(many, MANY_MIB);
    const loads = [
      { key: 'big', name: `1 × ${BIG_MIB} MiB`, file: big, count: 1, mib: BIG_MIB, connections: 1 },
      { key: 'many', name: `${MANY} × ${MANY_MIB} MiB / ${CONNECTIONS} conn`, file: many, count: MANY, mib: MANY_MIB, connections: CONNECTIONS },
    ].filter((load) => LOADS.includes(load.key));
    for (const load of loads) {
      const runs = { nginx: [], casedrop: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const order = (round % 2 ? ['casedrop', 'nginx'] : ['nginx', 'casedrop']).filter((system) => SYSTEMS.includes(system));
        for (const system of order) {
          const run = system === 'nginx' ? await runNginx(root, load) : await runCasedrop(root, load);
          runs[system].push(run);
          log(`${load.name} round ${round + 1} ${system}: ${JSON.stringify(run)}`);
          await sleep(500);
        }
      }
      // a side left out by UPLOAD_BENCH_SYSTEMS shows as null, not NaN or -Infinity
      const fixed = (x, digits) => (x === null ? null : +x.toFixed(digits));
      const medianOf = (xs, field) => (xs.length ? median(xs.map((r) => r[field])) : null);
      const med = (xs, field, digits) => fixed(medianOf(xs, field), digits);
      const peak = (xs) => (xs.length ? Math.max(...xs.map((r) => r.peakRssMiB)) : null);
      const bothRan = runs.nginx.length > 0 && runs.casedrop.length > 0;
      const ratio = bothRan ? fixed(medianOf(runs.casedrop, 'mibps') / medianOf(runs.nginx, 'mibps'), 2) : null;
      const row = {
        load: load.name,
        nginxMiBps: med(runs.nginx, 'mibps', 1),
        casedropMiBps: med(runs.casedrop, 'mibps', 1),
        ratio,
        casedropCpuSecondsPerGiB: med(runs.casedrop, 'cpuSecondsPerGiB', 2),
        casedropMainThreadCpuSecondsPerGiB: med(runs.casedrop, 'mainCpuSecondsPerGiB', 2),
        nginxCpuSecondsPerGiB: med(runs.nginx, 'cpuSecondsPerGiB', 2),
        casedropPeakRssMiB: peak(runs.casedrop),
        nginxPeakRssMiB: peak(runs.nginx),
        rounds: { nginx: runs.nginx.map((r) => r.mibps), casedrop: runs.casedrop.map((r) => r.mibps) },
      };
      results.push(row);
      log(JSON.stringify(row));
    }
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
  }
  const lines = [
    `${ROUNDS} round(s) per load and system, medians; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at the end`,
    '| load | nginx MiB/s | casedrop MiB/s | casedrop / nginx | nginx CPU s/GiB | casedrop CPU s/GiB (main thread) | casedrop peak RSS MiB | nginx peak RSS MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.load} | ${r.nginxMiBps} | ${r.casedropMiBps} | ${r.ratio} | ${r.nginxCpuSecondsPerGiB} | ${r.casedropCpuSecondsPerGiB} (${r.casedropMainThreadCpuSecondsPerGiB}) | ${r.casedropPeakRssMiB} | ${r.nginxPeakRssMiB} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench-upload: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
