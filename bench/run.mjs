#!/usr/bin/env node
// npm run bench: casedrop against a private Postfix on loopback, same loads, alternating runs.
// See bench/README.md for what is measured and how. Stops by itself and removes what it started.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOptions, LOADS } from './loads.mjs';
import { repoRoot } from './lib/casedrop.mjs';
import { ensurePostfixInstalled } from './lib/postfix.mjs';
import { startProbe } from './lib/probe.mjs';
import { sleep, waitUntil } from './lib/procs.mjs';
import { wireBody } from './lib/smtp-client.mjs';
import { percentile } from './lib/stats.mjs';
import { buildSummary, renderTable } from './report.mjs';
import { CASE_NUMBER, INTAKE_ADDRESS, startCasedropSystem, startPostfixSystem } from './systems.mjs';

const SENDER = 'customer@example.com';
const MiB = 1024 * 1024;
const log = (line) => process.stderr.write(`bench: ${line}\n`);
/** the system under test right now, so an interrupt can stop it (Postfix daemonizes: it is not our child) */
let active = null;

function checkTools() {
  ensurePostfixInstalled();
  for (const tool of ['redis-server', 'python3']) execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
}

function makePayload(root, load, name) {
  const out = join(root, `${name}.eml`);
  const wire = execFileSync(
    'python3',
    [
      join(repoRoot, 'bench/make-payload.py'),
      '--out',
      out,
      '--wire-bytes',
      String(load.wireBytes),
      '--workdir',
      root,
      '--case',
      CASE_NUMBER,
      '--from',
      SENDER,
      '--to',
      INTAKE_ADDRESS,
    ],
    { encoding: 'utf8' },
  );
  return { file: out, wireBytes: Number(wire.trim()), body: wireBody(out) };
}

/** Runs smtp-source to completion; resolves { ms, code, stderr }. Killed after `timeoutMs`. */
function smtpSource(port, load, payload, timeoutMs) {
  const args = [
    '-s',
    String(load.sessions),
    '-m',
    String(load.messages),
    '-F',
    payload.file,
    '-f',
    SENDER,
    '-t',
    INTAKE_ADDRESS,
    '-M',
    'load.bench.test',
    ...(load.reuse ? ['-d'] : []),
    `127.0.0.1:${port}`,
  ];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn('smtp-source', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 4000) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, code: code ?? signal, stderr: stderr.trim() });
    });
  });
}

async function runOne(systemName, loadName, payload, root, opts) {
  const load = LOADS[loadName];
  // Kept until the whole bench ends (main removes root), not removed after the run: on ext4 without a
  // journal (this VM's root), a freed inode is not reused for 60-360 s and every file created
  // meanwhile scans past it. Removing each run's tens of thousands of files made the next run pay
  // for them: three identical casedrop A runs took 31.7, 42.4 and 58.3 CPU s.
  const runDir = mkdtempSync(join(root, `${systemName}-${loadName}-`));
  chmodSync(runDir, 0o755);
  const record = { system: systemName, load: loadName, messages: load.messages, sessions: load.sessions, wireBytes: payload.wireBytes, reuse: load.reuse };
  let sys;
  try {
    sys =
      systemName === 'casedrop'
        ? await startCasedropSystem(runDir, { roles: opts.roles, receiptPattern: opts.receiptPattern })
        : await startPostfixSystem(runDir);
  } catch (err) {
    return { ...record, error: `start failed: ${err.message ?? err}` };
  }
  active = sys;
  try {
    await sleep(500); // let start-up work settle before the CPU baseline
    const cpu0 = sys.cpuSeconds();
    const probe = startProbe({ port: sys.port, from: SENDER, to: INTAKE_ADDRESS, body: payload.body, reuse: load.reuse, pauseMs: load.probePauseMs });
    const t0 = performance.now();
    const sent = await smtpSource(sys.port, load, payload, opts.sendTimeoutMs);
    const probed = await probe.stop();
    const expected = load.messages + probed.accepted;
    record.accepted = {
      seconds: sent.ms / 1000,
      msgsPerSec: load.messages / (sent.ms / 1000),
      mibPerSec: (load.messages * payload.wireBytes) / MiB / (sent.ms / 1000),
    };
    record.latency = {
      samples: probed.latenciesMs.length,
      p50Ms: percentile(probed.latenciesMs, 50),
      p99Ms: percentile(probed.latenciesMs, 99),
      refused: probed.refused.slice(0, 5),
      errors: probed.errors.slice(0, 5),
    };
    if (sent.code !== 0) throw new Error(`smtp-source exited ${sent.code}: ${sent.stderr.split('\n').slice(-3).join(' / ')}`);
    record.expected = expected;
    try {
      await waitUntil(() => sys.countDone() >= expected, { timeoutMs: opts.drainTimeoutMs, intervalMs: 100, what: `${expected} messages done` });
    } catch (err) {
      record.diagnosis = await sys.diagnose();
      record.done = sys.countDone();
      throw err;
    }
    const drainMs = performance.now() - t0;
    record.drain = { seconds: drainMs / 1000, msgsPerSec: expected / (drainMs / 1000) };
    const cpu1 = sys.cpuSeconds();
    record.cpuSeconds = Object.fromEntries(Object.keys(cpu1).map((k) => [k, cpu1[k] - (cpu0[k] ?? 0)]));
    record.memory = sys.memory();
  } catch (err) {
    record.error = String(err.message ?? err);
  } finally {
    await sys.stop();
    active = null;
  }
  return record;
}

function describe(r) {
  if (r.error) return `${r.system} ${r.load}: FAILED ${r.error}`;
  return `${r.system} ${r.load}: accepted ${r.accepted.msgsPerSec.toFixed(1)} msg/s, drained in ${r.drain.seconds.toFixed(1)} s, p99 ${r.latency.p99Ms?.toFixed(1)} ms, CPU ${r.cpuSeconds.total.toFixed(1)} s`;
}

async function main() {
  const opts = benchOptions();
  checkTools();
  const root = mkdtempSync(join(tmpdir(), 'casedrop-bench-'));
  chmodSync(root, 0o755);
  const stopSignal = async () => {
    log('interrupted; stopping what the bench started');
    await active?.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', stopSignal);
  process.once('SIGTERM', stopSignal);
  const runs = [];
  try {
    const payloads = {};
    for (const l of opts.loads) {
      const key = LOADS[l].wireBytes;
      payloads[key] ??= makePayload(root, LOADS[l], `payload-${key}`);
      log(`payload for ${l}: ${payloads[key].wireBytes} bytes on the wire`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const l of opts.loads) {
        // alternate which system goes first, so neither always gets the warmer page cache
        const order = round % 2 ? opts.systems : [...opts.systems].reverse();
        for (const s of order) {
          const r = await runOne(s, l, payloads[LOADS[l].wireBytes], root, opts);
          r.round = round;
          runs.push(r);
          log(`round ${round} ${describe(r)}`);
        }
      }
    }
  } finally {
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  }
  const summary = buildSummary(runs, opts.loads);
  const text = renderTable(summary);
  process.stdout.write(
    `\n${text}\n\nratios are casedrop/Postfix; drain speed > 1 means casedrop finished sooner. CPU "x+yr": casedrop processes + its Redis.\n`,
  );
  const outDir = join(repoRoot, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { date: new Date().toISOString(), options: { ...opts, receiptPattern: String(opts.receiptPattern) }, host: hostInfo(), summary, runs },
      null,
      2,
    ),
  );
  log(`results written to ${file}`);
  if (runs.some((r) => r.error)) process.exitCode = 1;
}

function hostInfo() {
  const os = execFileSync('sh', ['-c', 'nproc; postconf -h mail_version 2>/dev/null; redis-server --version'], { encoding: 'utf8' }).trim().split('\n');
  return { cpus: Number(os[0]), postfix: os[1], redis: os[2], node: process.version };
}

main().catch((err) => {
  log(`fatal: ${err.stack ?? err}`);
  process.exitCode = 2;
});
